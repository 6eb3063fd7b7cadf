using Parley.Testing;

namespace Parley.Sessions.Tests;

internal static class Until
{
    /// <summary>Polls an async condition until it holds, within <see cref="TestTimeouts.Default"/>.</summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, string because)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (!await condition().WithTimeout())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Condition not met in time: " + because);
            }
            await Task.Delay(50);
        }
    }
}

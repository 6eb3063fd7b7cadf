namespace Parley.Testing;

/// <summary>Every await in a test goes through one of these, so a hung server fails a test instead of CI.</summary>
public static class TestTimeouts
{
    /// <summary>Generous on purpose: the machine is shared and has two cores.</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(20);

    /// <summary>
    /// For a process of its own to start and listen (a .NET app, Node with its modules): the first start after a
    /// build, with other test assemblies running on both cores, has taken over 20 s.
    /// </summary>
    public static readonly TimeSpan ProcessStart = TimeSpan.FromSeconds(60);

    /// <summary>Awaits <paramref name="task"/> or fails with a <see cref="TimeoutException"/>.</summary>
    public static Task<T> WithTimeout<T>(this Task<T> task, TimeSpan? timeout = null) => task.WaitAsync(timeout ?? Default);

    /// <summary>Awaits <paramref name="task"/> or fails with a <see cref="TimeoutException"/>.</summary>
    public static Task WithTimeout(this Task task, TimeSpan? timeout = null) => task.WaitAsync(timeout ?? Default);

    /// <summary>Awaits <paramref name="task"/> or fails with a <see cref="TimeoutException"/>.</summary>
    public static Task<T> WithTimeout<T>(this ValueTask<T> task, TimeSpan? timeout = null) => task.AsTask().WaitAsync(timeout ?? Default);

    /// <summary>Polls <paramref name="condition"/> until it holds or the timeout passes.</summary>
    public static async Task Eventually(Func<bool> condition, TimeSpan? timeout = null, string? because = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Default);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Condition not met in time" + (because is null ? "" : ": " + because));
            }
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Polls an asynchronous <paramref name="condition"/> (a query to a server, each bounded by <see cref="Default"/>)
    /// until it holds or the timeout passes.
    /// </summary>
    public static async Task Eventually(Func<Task<bool>> condition, TimeSpan? timeout = null, string? because = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Default);
        while (!await condition().WithTimeout())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Condition not met in time" + (because is null ? "" : ": " + because));
            }
            await Task.Delay(50);
        }
    }
}

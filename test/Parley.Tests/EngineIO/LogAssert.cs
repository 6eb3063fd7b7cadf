using Parley.Testing;

namespace Parley.Tests.EngineIO;

internal static class LogAssert
{
    /// <summary>Waits until some captured log line contains every one of <paramref name="parts"/>.</summary>
    public static Task Logged(params string[] parts) =>
        TestTimeouts.Eventually(
            () => TestLog.Provider.Entries.Any(e => parts.All(p => e.Message.Contains(p, StringComparison.OrdinalIgnoreCase))),
            TimeSpan.FromSeconds(5),
            "a log line containing " + string.Join(" + ", parts));
}

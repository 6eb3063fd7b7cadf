namespace Parley.Redis;

/// <summary>
/// At most one log line a second for a failure that can repeat thousands of times a second during an outage
/// (every broadcast's PUBLISH, every room's subscription, every dropped message); the line carries how many
/// occurrences it stands for, so nothing is hidden.
/// </summary>
internal sealed class LogThrottle
{
    private long _count;
    private long _last = long.MinValue / 2;

    /// <summary>Counts one occurrence; true (with the count since the last line) when a line is due now.</summary>
    public bool Tick(out long count)
    {
        count = Interlocked.Increment(ref _count);
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _last);
        if (now - last < 1000 || Interlocked.CompareExchange(ref _last, now, last) != last)
        {
            return false;
        }
        count = Interlocked.Exchange(ref _count, 0);
        return true;
    }
}

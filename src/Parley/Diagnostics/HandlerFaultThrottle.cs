using System.Collections.Concurrent;

namespace Parley.Diagnostics;

/// <summary>
/// Lets an application handler's failure be logged with its stack once per event name and then at most once per
/// interval (<see cref="Interval"/> for handlers), with how many failures each line stands for: a bug that any client can trigger must
/// not turn every packet into a stack trace in the log. Event names come from clients (catch-all handlers see
/// any name), so the set of names tracked is bounded; beyond it, names share one throttle.
/// </summary>
internal sealed class HandlerFaultThrottle(TimeProvider time, TimeSpan interval)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private const int MaxNames = 256;
    private const string OtherNames = "\0other";

    private readonly ConcurrentDictionary<string, Entry> _byName = new(StringComparer.Ordinal);

    /// <summary>Counts one failure of <paramref name="eventName"/>; true when a line is due, with the count it stands for.</summary>
    public bool ShouldLog(string eventName, out long count)
    {
        if (!_byName.TryGetValue(eventName, out var entry))
        {
            entry = _byName.Count < MaxNames ? _byName.GetOrAdd(eventName, static _ => new Entry()) : _byName.GetOrAdd(OtherNames, static _ => new Entry());
        }
        return entry.Tick(time.GetTimestamp(), (long)(interval.TotalSeconds * time.TimestampFrequency), out count);
    }

    private sealed class Entry
    {
        private long _count;
        private long _last = long.MinValue;

        public bool Tick(long now, long interval, out long count)
        {
            count = Interlocked.Increment(ref _count);
            var last = Interlocked.Read(ref _last);
            if ((last != long.MinValue && now - last < interval) || Interlocked.CompareExchange(ref _last, now, last) != last)
            {
                return false;
            }
            count = Interlocked.Exchange(ref _count, 0);
            return true;
        }
    }
}

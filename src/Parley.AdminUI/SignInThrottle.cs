namespace Parley.AdminUI;

/// <summary>
/// Failed admin sign-ins per client address, in a fixed window: once an address has failed
/// <see cref="AdminUIOptions.MaxFailedSignIns"/> times, its next attempts are refused without checking the password
/// until the window ends. Guessing is slowed, and the bcrypt check (tens of milliseconds of CPU each) cannot be asked
/// for at will. Upstream has no such limit.
/// </summary>
/// <remarks>
/// The table is bounded: when it is full, expired entries go first, then the oldest. Many addresses can thus push an
/// address out early, which only gives that address a fresh window: the bound protects memory, the window protects
/// the password.
/// </remarks>
internal sealed class SignInThrottle(int maxFailures, TimeSpan window, TimeProvider time, int maxTracked = 10_000)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    private record struct Entry(long Start, int Failures);

    /// <summary>Whether <paramref name="address"/> has used up its failures in the current window.</summary>
    public bool IsBlocked(string address)
    {
        var now = time.GetTimestamp();
        lock (_lock)
        {
            if (!_entries.TryGetValue(address, out var entry))
            {
                return false;
            }
            if (Expired(entry, now))
            {
                _entries.Remove(address);
                return false;
            }
            return entry.Failures >= maxFailures;
        }
    }

    /// <summary>Counts a failed sign-in from <paramref name="address"/>.</summary>
    public void Failed(string address)
    {
        var now = time.GetTimestamp();
        lock (_lock)
        {
            if (_entries.TryGetValue(address, out var entry) && !Expired(entry, now))
            {
                _entries[address] = entry with { Failures = entry.Failures + 1 };
                return;
            }
            if (_entries.Count >= maxTracked)
            {
                MakeRoom(now);
            }
            _entries[address] = new Entry(now, 1);
        }
    }

    /// <summary>A successful sign-in clears the address's failures.</summary>
    public void Succeeded(string address)
    {
        lock (_lock)
        {
            _entries.Remove(address);
        }
    }

    private bool Expired(Entry entry, long now) => time.GetElapsedTime(entry.Start, now) >= window;

    private void MakeRoom(long now)
    {
        string? oldest = null;
        var oldestStart = long.MaxValue;
        foreach (var (address, entry) in _entries)
        {
            if (Expired(entry, now))
            {
                _entries.Remove(address);
            }
            else if (entry.Start < oldestStart)
            {
                (oldest, oldestStart) = (address, entry.Start);
            }
        }
        if (_entries.Count >= maxTracked && oldest is not null)
        {
            _entries.Remove(oldest);
        }
    }
}

using System.Runtime.CompilerServices;

namespace Parley.EngineIO;

/// <summary>The deadlines a connection can have, each at most once at a time.</summary>
internal enum EngineDeadline
{
    /// <summary>v4: time to send the next ping (pingInterval after the last pong, or after the open).</summary>
    Ping,

    /// <summary>No pong (v4) or no ping (v3) in time: the connection is gone.</summary>
    PingTimeout,

    /// <summary>A probing WebSocket has not committed the upgrade within upgradeTimeout.</summary>
    Upgrade,

    /// <summary>A graceful close has waited long enough, or a closed polling session stops lingering.</summary>
    Close,

    /// <summary>A WebSocket write has not completed within pingInterval + pingTimeout.</summary>
    Write,
}

/// <summary>Where each of a connection's deadlines sits in the heartbeat's heap: index + 1, 0 when not there.</summary>
[InlineArray(5)]
internal struct EngineDeadlineSlots
{
    private int _first;
}

/// <summary>
/// One timer for the deadlines of every connection of a server, instead of up to four timers per connection: at
/// 5,000 idle connections the per-connection timers (a <c>TimerQueueTimer</c>, its holder and its state each) were
/// about 0.5 KB per connection.
/// </summary>
/// <remarks>
/// Deadlines sit in a binary min-heap ordered by due time, and the one timer is armed for the earliest. Each
/// connection knows where its deadlines sit (<see cref="EngineDeadlineSlots"/>), so moving or cancelling one is
/// O(log n) and leaves nothing behind: a closed connection is not kept alive by the heap.
/// The timer fires on a grid of <see cref="Resolution"/> (at most 100 ms, and a hundredth of the shortest engine
/// timing): a deadline fires at the first grid point at or after its due time, never before it, together with every
/// other deadline due by then. Without the grid, 10,000 idle connections pinged every 25 s woke the timer and a
/// thread-pool worker 400 times a second, each for one ping; on the grid it is 10 times a second, each for a batch,
/// which took about a third off the idle CPU (docs/capacity.md). A ping 100 ms late is far inside any client's
/// pingInterval + pingTimeout.
/// Lock order: a connection's lock, then this one. The timer's callback takes this lock alone and calls the
/// connections after releasing it; arming never runs the callback on the caller's thread (the wait is never zero).
/// </remarks>
internal sealed class EngineHeartbeat
{
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private (EngineConnection Connection, EngineDeadline Kind, long Due)[] _heap = new (EngineConnection, EngineDeadline, long)[16];
    private readonly long _resolution;
    private int _count;
    private long _armedFor = long.MaxValue;

    public EngineHeartbeat(TimeProvider time, TimeSpan resolution)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(resolution, TimeSpan.FromTicks(1));
        _time = time;
        _resolution = resolution.Ticks;
        // The timer outlives the request that first touched the server: it must not capture that request's
        // ExecutionContext (its Activity, its HttpContext through async locals) for the server's whole life.
        using (ExecutionContext.SuppressFlow())
        {
            _timer = time.CreateTimer(static s => ((EngineHeartbeat)s!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>The grid the timer fires on: <see cref="ResolutionFor"/> of the server's options.</summary>
    public TimeSpan Resolution => TimeSpan.FromTicks(_resolution);

    /// <summary>A hundredth of the shortest of pingInterval, pingTimeout and upgradeTimeout, at most 100 ms.</summary>
    public static TimeSpan ResolutionFor(EngineOptions options)
    {
        var shortest = Math.Min(options.PingInterval.Ticks, Math.Min(options.PingTimeout.Ticks, options.UpgradeTimeout.Ticks));
        return TimeSpan.FromTicks(Math.Clamp(shortest / 100, 1, TimeSpan.TicksPerMillisecond * 100));
    }

    /// <summary>The due time of a deadline <paramref name="after"/> from now, in UTC ticks (never 0).</summary>
    public long DueIn(TimeSpan after) => _time.GetUtcNow().UtcTicks + Math.Max(after.Ticks, 1);

    /// <summary>Sets or moves a connection's deadline of one kind. Call under the connection's lock.</summary>
    public void Set(EngineConnection connection, EngineDeadline kind, long due)
    {
        lock (_lock)
        {
            var slot = connection.HeapSlots[(int)kind] - 1;
            if (slot < 0)
            {
                if (_count == _heap.Length)
                {
                    Array.Resize(ref _heap, _count * 2);
                }
                slot = _count++;
            }
            Place(slot, (connection, kind, due));
            SiftDown(SiftUp(slot));
            var at = GridPoint(due);
            if (at < _armedFor)
            {
                Arm(at);
            }
        }
    }

    /// <summary>Cancels a connection's deadline of one kind, if set. Call under the connection's lock.</summary>
    public void Cancel(EngineConnection connection, EngineDeadline kind)
    {
        lock (_lock)
        {
            var slot = connection.HeapSlots[(int)kind] - 1;
            if (slot >= 0)
            {
                RemoveAt(slot);
            }
        }
        // The timer may still fire for the earliest due time; it then finds nothing due and re-arms.
    }

    /// <summary>Cancels every deadline of a connection (it closed). Call under the connection's lock.</summary>
    public void CancelAll(EngineConnection connection)
    {
        lock (_lock)
        {
            for (var kind = 0; kind < 5; kind++)
            {
                var slot = connection.HeapSlots[kind] - 1;
                if (slot >= 0)
                {
                    RemoveAt(slot);
                }
            }
        }
    }

    /// <summary>Deadlines on the heap (tests).</summary>
    internal int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    private void RemoveAt(int slot)
    {
        var removed = _heap[slot];
        removed.Connection.HeapSlots[(int)removed.Kind] = 0;
        var last = --_count;
        if (slot != last)
        {
            Place(slot, _heap[last]);
            SiftDown(SiftUp(slot));
        }
        _heap[last] = default;
        if (_heap.Length > 64 && _count < _heap.Length / 4)
        {
            // Give back what a burst of connections grew.
            Array.Resize(ref _heap, _heap.Length / 2);
        }
    }

    private void Place(int slot, (EngineConnection Connection, EngineDeadline Kind, long Due) entry)
    {
        _heap[slot] = entry;
        entry.Connection.HeapSlots[(int)entry.Kind] = slot + 1;
    }

    private int SiftUp(int slot)
    {
        var entry = _heap[slot];
        while (slot > 0)
        {
            var parent = (slot - 1) / 2;
            if (_heap[parent].Due <= entry.Due)
            {
                break;
            }
            Place(slot, _heap[parent]);
            slot = parent;
        }
        Place(slot, entry);
        return slot;
    }

    private void SiftDown(int slot)
    {
        var entry = _heap[slot];
        while (true)
        {
            var child = slot * 2 + 1;
            if (child >= _count)
            {
                break;
            }
            if (child + 1 < _count && _heap[child + 1].Due < _heap[child].Due)
            {
                child++;
            }
            if (entry.Due <= _heap[child].Due)
            {
                break;
            }
            Place(slot, _heap[child]);
            slot = child;
        }
        Place(slot, entry);
    }

    /// <summary>The first grid point at or after <paramref name="due"/>.</summary>
    private long GridPoint(long due) => (due + _resolution - 1) / _resolution * _resolution;

    /// <summary>Arms the timer for the grid point <paramref name="at"/>. Call under the lock.</summary>
    private void Arm(long at)
    {
        _armedFor = at;
        var wait = Math.Max(1, at - _time.GetUtcNow().UtcTicks);
        _timer.Change(TimeSpan.FromTicks(wait), Timeout.InfiniteTimeSpan);
    }

    private void Fire()
    {
        List<(EngineConnection Connection, EngineDeadline Kind, long Due)>? expired = null;
        lock (_lock)
        {
            var now = _time.GetUtcNow().UtcTicks;
            while (_count > 0 && _heap[0].Due <= now)
            {
                (expired ??= []).Add(_heap[0]);
                RemoveAt(0);
            }
            _armedFor = long.MaxValue;
            if (_count > 0)
            {
                Arm(GridPoint(_heap[0].Due));
            }
        }
        if (expired is null)
        {
            return;
        }
        // Outside the lock: a deadline's action sends, closes and sets the next deadline.
        foreach (var (connection, kind, due) in expired)
        {
            connection.OnDeadline(kind, due);
        }
    }
}

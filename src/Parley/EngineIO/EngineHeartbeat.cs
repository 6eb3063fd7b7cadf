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

/// <summary>
/// One timer for the deadlines of every connection of a server, instead of four timers per connection: at 10,000
/// idle connections the per-connection timers (a <c>TimerQueueTimer</c>, its holder and state each) were about
/// 0.5 KB per connection and one timer-queue entry each.
/// </summary>
/// <remarks>
/// Deadlines sit in a min-heap ordered by due time; the one timer is armed for the earliest. A connection keeps the
/// due time of each of its deadlines and the heap entry carries the same value, so moving or cancelling a deadline
/// is only a field write: an entry whose due time no longer matches its connection's is stale and is dropped when
/// it comes up. Each connection has at most a few stale entries (its earlier ping timeouts), each gone within
/// pingInterval + pingTimeout. Due times are exact (no buckets), so engine.io's timings hold to the millisecond and
/// tests that advance a fake <see cref="TimeProvider"/> see each deadline fire when its time is reached.
/// </remarks>
internal sealed class EngineHeartbeat
{
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private readonly PriorityQueue<(EngineConnection Connection, EngineDeadline Kind), long> _queue = new();
    private long _armedFor = long.MaxValue;

    public EngineHeartbeat(TimeProvider time)
    {
        _time = time;
        // The timer outlives the request that first touched the server: it must not capture that request's
        // ExecutionContext (its Activity, its HttpContext through async locals) for the server's whole life.
        using (ExecutionContext.SuppressFlow())
        {
            _timer = time.CreateTimer(static s => ((EngineHeartbeat)s!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>The due time of a deadline <paramref name="after"/> from now, in UTC ticks (never 0).</summary>
    public long DueIn(TimeSpan after) => _time.GetUtcNow().UtcTicks + after.Ticks;

    /// <summary>
    /// Adds a deadline whose due time the connection has already recorded (so the timer never finds it stale by
    /// mistake). Call outside the connection's lock: arming the timer may run it on this thread.
    /// </summary>
    public void Add(EngineConnection connection, EngineDeadline kind, long due)
    {
        lock (_lock)
        {
            _queue.Enqueue((connection, kind), due);
            if (due < _armedFor)
            {
                Arm(due);
            }
        }
    }

    /// <summary>Arms the timer for <paramref name="due"/>. Call under the lock.</summary>
    private void Arm(long due)
    {
        _armedFor = due;
        var wait = Math.Max(0, due - _time.GetUtcNow().UtcTicks);
        _timer.Change(TimeSpan.FromTicks(wait), Timeout.InfiniteTimeSpan);
    }

    private void Fire()
    {
        List<(EngineConnection Connection, EngineDeadline Kind, long Due)>? expired = null;
        lock (_lock)
        {
            var now = _time.GetUtcNow().UtcTicks;
            while (_queue.TryPeek(out var entry, out var due) && due <= now)
            {
                _queue.Dequeue();
                (expired ??= []).Add((entry.Connection, entry.Kind, due));
            }
            _armedFor = long.MaxValue;
            if (_queue.TryPeek(out _, out var next))
            {
                Arm(next);
            }
        }
        if (expired is null)
        {
            return;
        }
        // Outside the lock: a deadline's action sends, closes and schedules the next deadline.
        foreach (var (connection, kind, due) in expired)
        {
            connection.OnDeadline(kind, due);
        }
    }
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Parley.Sessions;

/// <summary>
/// The embedded default store: sessions in a dictionary of this process. Expiry is checked on every read and
/// expired sessions are swept by a timer; the number of sessions is bounded. Sessions do not survive a restart and
/// are not shared between nodes: use a PostgreSQL or Redis store for that.
/// </summary>
public sealed partial class MemorySessionStore : SessionStore, IDisposable
{
    // A fixed number of locks: SetAsync checks Count, which takes every lock, on each save. Without a concurrency
    // level the dictionary adds locks as it grows (up to 1,024), so that check grew with the number of sessions.
    private readonly ConcurrentDictionary<string, Entry> _sessions = new(Environment.ProcessorCount, 31, StringComparer.Ordinal);
    private readonly MemorySessionStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ITimer _sweeper;
    private readonly Lock _evictLock = new();

    /// <summary>Creates the store and starts its sweep timer.</summary>
    public MemorySessionStore(IOptions<MemorySessionStoreOptions> options, TimeProvider? timeProvider = null, ILogger<MemorySessionStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _sweeper = _time.CreateTimer(static s => ((MemorySessionStore)s!).Sweep(), this, _options.SweepInterval, _options.SweepInterval);
    }

    /// <inheritdoc />
    public override bool CanEnumerate => true;

    /// <inheritdoc />
    public override ValueTask<string?> GetAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        if (!_sessions.TryGetValue(sessionId, out var entry))
        {
            return ValueTask.FromResult<string?>(null);
        }
        if (entry.ExpiresAt <= _time.GetUtcNow())
        {
            // Like express-session's MemoryStore getSession(): an expired session is deleted when read.
            _sessions.TryRemove(new KeyValuePair<string, Entry>(sessionId, entry));
            return ValueTask.FromResult<string?>(null);
        }
        return ValueTask.FromResult<string?>(entry.Json);
    }

    /// <inheritdoc />
    public override ValueTask SetAsync(string sessionId, SessionRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        ArgumentNullException.ThrowIfNull(record.Json);
        var entry = new Entry(record.Json, ExpiryOf(record));
        if (_sessions.Count >= _options.MaxSessions && !_sessions.ContainsKey(sessionId))
        {
            MakeRoom();
        }
        _sessions[sessionId] = entry;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override ValueTask TouchAsync(string sessionId, SessionRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        var expiresAt = ExpiryOf(record);
        while (_sessions.TryGetValue(sessionId, out var entry) && entry.ExpiresAt > _time.GetUtcNow())
        {
            if (_sessions.TryUpdate(sessionId, entry with { ExpiresAt = expiresAt }, entry))
            {
                break;
            }
        }
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override ValueTask DestroyAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        _sessions.TryRemove(sessionId, out _);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override ValueTask<long> CountAsync(CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow();
        long n = 0;
        foreach (var (_, entry) in _sessions)
        {
            if (entry.ExpiresAt > now)
            {
                n++;
            }
        }
        return ValueTask.FromResult(n);
    }

    /// <inheritdoc />
    public override ValueTask ClearAsync(CancellationToken cancellationToken = default)
    {
        _sessions.Clear();
        return ValueTask.CompletedTask;
    }

    /// <summary>Removes expired sessions now; the timer calls this every <see cref="MemorySessionStoreOptions.SweepInterval"/>.</summary>
    public int Sweep()
    {
        var now = _time.GetUtcNow();
        var removed = 0;
        foreach (var pair in _sessions)
        {
            if (pair.Value.ExpiresAt <= now && _sessions.TryRemove(pair))
            {
                removed++;
            }
        }
        if (removed > 0)
        {
            Log.Swept(_logger, removed);
        }
        return removed;
    }

    /// <inheritdoc />
    public void Dispose() => _sweeper.Dispose();

    private DateTimeOffset ExpiryOf(SessionRecord record) => record.Expires ?? _time.GetUtcNow() + _options.DefaultTtl;

    private void MakeRoom()
    {
        lock (_evictLock)
        {
            if (_sessions.Count < _options.MaxSessions || Sweep() > 0 && _sessions.Count < _options.MaxSessions)
            {
                return;
            }
            // Evict a tenth at once, so that the sort is paid once per MaxSessions/10 new sessions.
            var victims = _sessions.ToArray();
            Array.Sort(victims, static (a, b) => a.Value.ExpiresAt.CompareTo(b.Value.ExpiresAt));
            var count = Math.Max(1, victims.Length / 10);
            for (var i = 0; i < count; i++)
            {
                _sessions.TryRemove(victims[i]);
            }
            Log.Evicted(_logger, count, _options.MaxSessions);
        }
    }

    private sealed record Entry(string Json, DateTimeOffset ExpiresAt);

    private static partial class Log
    {
        [LoggerMessage(4060, LogLevel.Debug, "Memory session store swept {Count} expired sessions.")]
        public static partial void Swept(ILogger logger, int count);

        [LoggerMessage(4061, LogLevel.Warning, "Memory session store is full ({Max} sessions); evicted the {Count} that expire soonest.")]
        public static partial void Evicted(ILogger logger, int count, int max);
    }
}

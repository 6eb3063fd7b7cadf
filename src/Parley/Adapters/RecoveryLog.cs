using System.Globalization;
using Parley.Diagnostics;

namespace Parley.Adapters;

/// <summary>
/// The in-memory side of connection state recovery for one namespace (socket.io-adapter in-memory-adapter.ts
/// <c>SessionAwareAdapter</c>): the sessions of sockets that dropped, and the broadcasts they may have missed, each
/// with its offset. Both are bounded: by <see cref="ConnectionStateRecoveryOptions.MaxDisconnectionDuration"/>
/// (expiry, swept while anything is kept), and by count and bytes (eviction, counted by a metric).
/// </summary>
/// <remarks>
/// Offsets are consecutive numbers, so the packet after an offset is found by subtraction, not by a search.
/// <see cref="Lock"/> is held while a broadcast is stored and queued to its local recipients, and while a recovered
/// socket joins its rooms and gets its missed packets: a broadcast is then either replayed to it or delivered live,
/// never both and never neither, and every socket gets the offsets in increasing order.
/// </remarks>
internal sealed class RecoveryLog : IDisposable
{
    // What a kept packet costs beyond its payload: the entry, the packet object, its encoded frames' headers.
    private const int EntryOverhead = 160;

    private readonly ConnectionStateRecoveryOptions _options;
    private readonly TimeProvider _time;
    private readonly ParleyMetrics _metrics;
    private readonly List<Entry> _entries = [];
    private readonly Dictionary<string, LinkedListNode<PersistedSession>> _sessions = new(StringComparer.Ordinal);
    private readonly LinkedList<PersistedSession> _sessionsByAge = new();
    private int _head;
    private long _bytes;
    private long _lastId;
    private ITimer? _sweeper;
    private bool _disposed;

    public RecoveryLog(ConnectionStateRecoveryOptions options, TimeProvider time, ParleyMetrics metrics)
    {
        _options = options;
        _time = time;
        _metrics = metrics;
    }

    /// <summary>Held across storing a broadcast and queuing it, and across attaching a recovered socket.</summary>
    public Lock Lock { get; } = new();

    public ConnectionStateRecoveryOptions Options => _options;

    /// <summary>Packets kept now (for tests and diagnostics).</summary>
    public int PacketCount
    {
        get
        {
            lock (Lock)
            {
                return _entries.Count - _head;
            }
        }
    }

    /// <summary>Sessions kept now.</summary>
    public int SessionCount
    {
        get
        {
            lock (Lock)
            {
                return _sessions.Count;
            }
        }
    }

    /// <summary>
    /// Gives <paramref name="packet"/> the next offset and keeps it, when it can be replayed: not volatile (it may
    /// be dropped anyway), and without an ack id (the caller sends those otherwise; an ack cannot be replayed).
    /// Call under <see cref="Lock"/>.
    /// </summary>
    public void Store(BroadcastPacket packet, BroadcastOptions options)
    {
        if (options.Flags.Volatile || packet.Offset is not null)
        {
            return;
        }
        var id = ++_lastId;
        packet.Offset = id.ToString(CultureInfo.InvariantCulture);
        // The JSON twice: the payload, and the text frame encoded from it once it is sent (binary frames share
        // the attachments' memory).
        long size = EntryOverhead + (2L * packet.Payload.Json.Length);
        foreach (var attachment in packet.Payload.Attachments)
        {
            size += attachment.Length;
        }
        var now = _time.GetTimestamp();
        _entries.Add(new Entry(id, packet, options, now, size));
        _bytes += size;
        var evicted = 0;
        while (_entries.Count - _head > _options.MaxPackets || _bytes > _options.MaxBytes)
        {
            RemoveHead();
            evicted++;
        }
        _metrics.RecoveryEvicted(evicted);
        ExpireLocked();
        StartSweeper();
    }

    public void Persist(PersistedSession session)
    {
        lock (Lock)
        {
            if (_sessions.Remove(session.Pid, out var previous))
            {
                _sessionsByAge.Remove(previous);
            }
            _sessions[session.Pid] = _sessionsByAge.AddLast(session);
            while (_sessions.Count > _options.MaxSessions)
            {
                var oldest = _sessionsByAge.First!;
                _sessionsByAge.RemoveFirst();
                _sessions.Remove(oldest.Value.Pid);
            }
            ExpireLocked();
            StartSweeper();
        }
    }

    /// <summary>
    /// Takes the session <paramref name="pid"/> (a session is restored once) and the packets after
    /// <paramref name="offset"/> that reach its rooms; null, with why, when it cannot be recovered.
    /// </summary>
    public RestoredSession? Restore(string pid, string offset, out string result)
    {
        lock (Lock)
        {
            ExpireLocked();
            if (!_sessions.Remove(pid, out var node))
            {
                result = "unknown_session";
                return null;
            }
            _sessionsByAge.Remove(node);
            var session = node.Value;
            if (session.DisconnectedAt + _options.MaxDisconnectionDuration < _time.GetUtcNow())
            {
                result = "expired";
                return null;
            }
            if (!TryIndexOf(offset, out var index))
            {
                result = "unknown_offset";
                return null;
            }
            result = "recovered";
            return new RestoredSession { Session = session, MissedPackets = MatchingLocked(index + 1, session.Rooms) };
        }
    }

    /// <summary>
    /// The kept packets after <paramref name="offset"/> that reach <paramref name="rooms"/>; empty when the offset
    /// is not one of this log's. Call under <see cref="Lock"/>.
    /// </summary>
    public IReadOnlyList<BroadcastPacket> MissedAfter(string offset, IReadOnlyCollection<string> rooms) =>
        TryIndexOf(offset, out var index) ? MatchingLocked(index + 1, rooms) : [];

    private bool TryIndexOf(string offset, out int index)
    {
        index = -1;
        var count = _entries.Count - _head;
        if (count == 0 || !long.TryParse(offset, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            return false;
        }
        var first = _entries[_head].Id;
        if (id < first || id > _lastId)
        {
            return false;
        }
        index = _head + (int)(id - first);
        return true;
    }

    private List<BroadcastPacket> MatchingLocked(int from, IReadOnlyCollection<string> rooms)
    {
        var missed = new List<BroadcastPacket>();
        for (var i = from; i < _entries.Count; i++)
        {
            if (Reaches(_entries[i].Options, rooms))
            {
                missed.Add(_entries[i].Packet);
            }
        }
        return missed;
    }

    /// <summary>socket.io-adapter shouldIncludePacket: one of the rooms is targeted (or all are) and none is excepted.</summary>
    internal static bool Reaches(BroadcastOptions options, IReadOnlyCollection<string> rooms)
    {
        var included = options.Rooms.Count == 0;
        foreach (var room in rooms)
        {
            if (options.Except.Contains(room))
            {
                return false;
            }
            included |= options.Rooms.Contains(room);
        }
        return included;
    }

    private void RemoveHead()
    {
        _bytes -= _entries[_head].Size;
        _entries[_head] = default;
        _head++;
        if (_head == _entries.Count)
        {
            _entries.Clear();
            _head = 0;
        }
        else if (_head >= 1024 && _head * 2 >= _entries.Count)
        {
            _entries.RemoveRange(0, _head);
            _head = 0;
        }
    }

    /// <summary>Forgets the sessions and packets older than the longest disconnection allowed.</summary>
    private void ExpireLocked()
    {
        var threshold = _time.GetUtcNow() - _options.MaxDisconnectionDuration;
        while (_sessionsByAge.First is { } oldest && oldest.Value.DisconnectedAt < threshold)
        {
            _sessionsByAge.RemoveFirst();
            _sessions.Remove(oldest.Value.Pid);
        }
        var now = _time.GetTimestamp();
        while (_head < _entries.Count && _time.GetElapsedTime(_entries[_head].EmittedAt, now) > _options.MaxDisconnectionDuration)
        {
            RemoveHead();
        }
    }

    /// <summary>Sweeps on a timer while something is kept, so a namespace that goes quiet lets it go too.</summary>
    private void StartSweeper()
    {
        if (_sweeper is not null || _disposed)
        {
            return;
        }
        var period = TimeSpan.FromTicks(Math.Clamp(_options.MaxDisconnectionDuration.Ticks / 2, TimeSpan.TicksPerSecond / 2, TimeSpan.TicksPerMinute));
        _sweeper = _time.CreateTimer(static s => ((RecoveryLog)s!).Sweep(), this, period, period);
    }

    private void Sweep()
    {
        lock (Lock)
        {
            ExpireLocked();
            if (_sessions.Count == 0 && _head == _entries.Count)
            {
                _sweeper?.Dispose();
                _sweeper = null;
            }
        }
    }

    public void Dispose()
    {
        lock (Lock)
        {
            _disposed = true;
            _sweeper?.Dispose();
            _sweeper = null;
        }
    }

    private readonly record struct Entry(long Id, BroadcastPacket Packet, BroadcastOptions Options, long EmittedAt, long Size);
}

using System.Buffers;
using System.Text.Json;
using Parley.Serialization;

namespace Parley.Adapters;

/// <summary>
/// Keeps a namespace's rooms and carries its broadcasts and cluster requests (socket.io-adapter's <c>Adapter</c>).
/// The base class is the in-memory adapter of one node: room bookkeeping and local delivery. A cluster adapter
/// (Redis) overrides the virtual operations to reach the other nodes as well, and calls the <c>*Local</c> methods
/// for this node's share. Room state is always local: nodes never share membership, only requests.
/// </summary>
public abstract class ParleyAdapter : IAsyncDisposable
{
    private readonly Lock _lock = new();
    // Members of each room and rooms of each socket. Most rooms have one member (a socket's own room) and most sockets
    // a few rooms: RoomMembers keeps those without a HashSet each.
    private readonly Dictionary<string, RoomMembers> _rooms = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RoomMembers> _sids = new(StringComparer.Ordinal);
    private RecoveryLog? _recovery;

    /// <summary>Creates an adapter for <paramref name="namespace"/>.</summary>
    protected ParleyAdapter(Namespace @namespace) => Namespace = @namespace;

    /// <summary>The namespace served.</summary>
    public Namespace Namespace { get; }

    /// <summary>
    /// Raised after a local socket joined a room it was not in: (room, socket id). socket.io-adapter's
    /// <c>join-room</c> event, which tools such as the admin UI follow. Raised outside the adapter's lock.
    /// </summary>
    public event Action<string, string>? RoomJoined;

    /// <summary>Raised after a local socket left a room it was in: (room, socket id). socket.io-adapter's <c>leave-room</c>.</summary>
    public event Action<string, string>? RoomLeft;

    /// <summary>Starts the adapter (subscriptions of a cluster adapter).</summary>
    public virtual Task InitAsync() => Task.CompletedTask;

    /// <summary>Stops it.</summary>
    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        _recovery?.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The in-memory recovery log of this namespace, created on first use when the server has connection state
    /// recovery on; null when it is off.
    /// </summary>
    internal RecoveryLog? Recovery
    {
        get
        {
            if (_recovery is { } log)
            {
                return log;
            }
            var server = Namespace.Server;
            if (server.Options.ConnectionStateRecovery is not { } options)
            {
                return null;
            }
            Interlocked.CompareExchange(ref _recovery, new RecoveryLog(options, server.Time, server.Metrics), null);
            return _recovery;
        }
    }

    // ---- room bookkeeping (local) ----

    /// <summary>Adds a socket to rooms.</summary>
    public void AddAll(string sid, IEnumerable<string> rooms)
    {
        List<string>? created = null;
        // Collected only when someone listens: joins are on the connection path of every socket.
        var joinedHandler = RoomJoined;
        List<string>? joined = null;
        lock (_lock)
        {
            if (!_sids.TryGetValue(sid, out var mine))
            {
                _sids[sid] = mine = new RoomMembers();
            }
            foreach (var room in rooms)
            {
                if (mine.Add(room) && joinedHandler is not null)
                {
                    (joined ??= []).Add(room);
                }
                if (!_rooms.TryGetValue(room, out var members))
                {
                    _rooms[room] = members = new RoomMembers();
                    (created ??= []).Add(room);
                }
                members.Add(sid);
            }
        }
        if (created is not null)
        {
            foreach (var room in created)
            {
                OnRoomCreated(room);
            }
        }
        if (joined is not null)
        {
            foreach (var room in joined)
            {
                joinedHandler!(room, sid);
            }
        }
    }

    /// <summary>Removes a socket from a room.</summary>
    public void Del(string sid, string room)
    {
        bool deleted;
        var left = false;
        lock (_lock)
        {
            if (_sids.TryGetValue(sid, out var mine))
            {
                left = mine.Remove(room);
            }
            deleted = RemoveMemberLocked(room, sid);
        }
        if (deleted)
        {
            OnRoomDeleted(room);
        }
        if (left)
        {
            RoomLeft?.Invoke(room, sid);
        }
    }

    /// <summary>Removes a socket from every room.</summary>
    public void DelAll(string sid)
    {
        List<string>? deleted = null;
        RoomMembers? left;
        lock (_lock)
        {
            if (!_sids.Remove(sid, out var mine))
            {
                return;
            }
            left = mine;
            foreach (var room in mine)
            {
                if (RemoveMemberLocked(room, sid))
                {
                    (deleted ??= []).Add(room);
                }
            }
        }
        if (deleted is not null)
        {
            foreach (var room in deleted)
            {
                OnRoomDeleted(room);
            }
        }
        if (RoomLeft is { } leftHandler)
        {
            // The set was removed from _sids above: nobody else changes it any more.
            foreach (var room in left)
            {
                leftHandler(room, sid);
            }
        }
    }

    private bool RemoveMemberLocked(string room, string sid)
    {
        if (_rooms.TryGetValue(room, out var members) && members.Remove(sid) && members.Count == 0)
        {
            _rooms.Remove(room);
            return true;
        }
        return false;
    }

    /// <summary>The rooms of a local socket (a snapshot).</summary>
    public IReadOnlySet<string> SocketRooms(string sid)
    {
        lock (_lock)
        {
            var rooms = new HashSet<string>(StringComparer.Ordinal);
            if (_sids.TryGetValue(sid, out var mine))
            {
                foreach (var room in mine)
                {
                    rooms.Add(room);
                }
            }
            return rooms;
        }
    }

    /// <summary>Whether some local socket is in <paramref name="room"/>.</summary>
    public bool HasRoom(string room)
    {
        lock (_lock)
        {
            return _rooms.ContainsKey(room);
        }
    }

    /// <summary>The local rooms (a snapshot).</summary>
    public IReadOnlyCollection<string> LocalRooms
    {
        get
        {
            lock (_lock)
            {
                return [.. _rooms.Keys];
            }
        }
    }

    /// <summary>Called after a room gets its first local member (socket.io-adapter <c>create-room</c>).</summary>
    protected virtual void OnRoomCreated(string room)
    {
    }

    /// <summary>Called after a room loses its last local member (socket.io-adapter <c>delete-room</c>).</summary>
    protected virtual void OnRoomDeleted(string room)
    {
    }

    /// <summary>
    /// The local sockets a broadcast reaches, in a pooled array the caller returns: members of <c>Rooms</c> (or
    /// everyone), minus members of <c>Except</c>.
    /// </summary>
    protected internal (ParleySocket[] Sockets, int Count) SelectLocal(BroadcastOptions options)
    {
        var sockets = Namespace.SocketsById;
        lock (_lock)
        {
            ParleySocket[] array;
            var count = 0;
            if (options.Rooms.Count == 0)
            {
                array = ArrayPool<ParleySocket>.Shared.Rent(Math.Max(1, _sids.Count));
                foreach (var sid in _sids.Keys)
                {
                    if (!IsExceptLocked(sid, options.Except) && sockets.TryGetValue(sid, out var socket))
                    {
                        array[count++] = socket;
                    }
                }
                return (array, count);
            }
            if (options.Rooms.Count == 1)
            {
                foreach (var room in options.Rooms)
                {
                    if (!_rooms.TryGetValue(room, out var members))
                    {
                        return ([], 0);
                    }
                    array = ArrayPool<ParleySocket>.Shared.Rent(Math.Max(1, members.Count));
                    foreach (var sid in members)
                    {
                        if (!IsExceptLocked(sid, options.Except) && sockets.TryGetValue(sid, out var socket))
                        {
                            array[count++] = socket;
                        }
                    }
                    return (array, count);
                }
            }
            var seen = new HashSet<string>(StringComparer.Ordinal);
            array = ArrayPool<ParleySocket>.Shared.Rent(16);
            foreach (var room in options.Rooms)
            {
                if (!_rooms.TryGetValue(room, out var members))
                {
                    continue;
                }
                foreach (var sid in members)
                {
                    if (seen.Add(sid) && !IsExceptLocked(sid, options.Except) && sockets.TryGetValue(sid, out var socket))
                    {
                        if (count == array.Length)
                        {
                            var bigger = ArrayPool<ParleySocket>.Shared.Rent(array.Length * 2);
                            array.AsSpan(0, count).CopyTo(bigger);
                            ArrayPool<ParleySocket>.Shared.Return(array, clearArray: true);
                            array = bigger;
                        }
                        array[count++] = socket;
                    }
                }
            }
            return (array, count);
        }
    }

    private bool IsExceptLocked(string sid, IReadOnlySet<string> except)
    {
        if (except.Count == 0)
        {
            return false;
        }
        foreach (var room in except)
        {
            if (_rooms.TryGetValue(room, out var members) && members.Contains(sid))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Returns an array from <see cref="SelectLocal"/>.</summary>
    protected internal static void Release(ParleySocket[] sockets)
    {
        if (sockets.Length > 0)
        {
            ArrayPool<ParleySocket>.Shared.Return(sockets, clearArray: true);
        }
    }

    // ---- operations: local here, cluster-wide in cluster adapters ----

    /// <summary>Delivers a broadcast to this node's sockets: one encoding, the same frames for everyone.</summary>
    public int BroadcastLocal(BroadcastPacket packet, BroadcastOptions options)
    {
        var (sockets, count) = SelectLocal(options);
        try
        {
            var frames = packet.GetFrames(options.Flags.Compress);
            var isVolatile = options.Flags.Volatile;
            for (var i = 0; i < count; i++)
            {
                var socket = sockets[i];
                if (socket.ReplayedUpTo is not null && packet.Offset is not null && WasReplayed(socket, packet))
                {
                    continue;
                }
                socket.SendFrames(frames, isVolatile);
            }
            Namespace.Server.Metrics.Broadcast(count);
            return count;
        }
        finally
        {
            Release(sockets);
        }
    }

    /// <summary>
    /// Delivers a broadcast that expects acknowledgements to this node's sockets; returns how many were reached.
    /// One ack id (from the namespace's counter) serves every recipient, so the frames are still encoded once
    /// (socket.io-adapter in-memory-adapter.ts broadcastWithAck). Each socket holds <paramref name="onAck"/> itself
    /// as its pending ack. The acks still pending when <see cref="AckTimeout"/> passes are dropped: the emitter has
    /// given up by then, and on a node that serves another node's request nobody else would drop them.
    /// </summary>
    public int BroadcastWithAckLocal(BroadcastPacket packet, BroadcastOptions options, Action<EventArgument[]?> onAck)
    {
        ArgumentNullException.ThrowIfNull(packet);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(onAck);
        var (sockets, count) = SelectLocal(options);
        try
        {
            var ackId = Namespace.NextAckId();
            var frames = packet.Payload.Encode(Protocol.SocketIO.SocketPacketType.Event, packet.Namespace, ackId, options.Flags.Compress);
            for (var i = 0; i < count; i++)
            {
                sockets[i].RegisterAck(ackId, onAck);
                sockets[i].SendFrames(frames, options.Flags.Volatile);
            }
            Namespace.Server.Metrics.Broadcast(count);
            if (AckTimeout(options.Flags) is { } timeout && count > 0)
            {
                _ = DropAcksAfterAsync(sockets.AsSpan(0, count).ToArray(), ackId, timeout);
            }
            return count;
        }
        finally
        {
            Release(sockets);
        }
    }

    private async Task DropAcksAfterAsync(ParleySocket[] sockets, long ackId, TimeSpan timeout)
    {
        await Task.Delay(timeout, Namespace.Server.Time);
        var dropped = 0;
        foreach (var socket in sockets)
        {
            if (socket.CancelAck(ackId))
            {
                dropped++;
            }
        }
        Namespace.Server.Metrics.AcksTimedOut(dropped);
    }

    /// <summary>
    /// Broadcasts to every node's matching sockets. With connection state recovery on, the in-memory adapter gives
    /// the packet an offset and keeps it (unless it is volatile) before delivering it; a cluster adapter that
    /// overrides this sets <see cref="BroadcastPacket.Offset"/> from its publish instead.
    /// </summary>
    public virtual Task BroadcastAsync(BroadcastPacket packet, BroadcastOptions options)
    {
        if (Recovery is not { } log)
        {
            BroadcastLocal(packet, options);
            return Task.CompletedTask;
        }
        // Stored and queued under one lock: see RecoveryLog. Queuing is not I/O (the transports write later).
        lock (log.Lock)
        {
            log.Store(packet, options);
            BroadcastLocal(packet, options);
        }
        return Task.CompletedTask;
    }

    // ---- connection state recovery (socket.io-adapter persistSession / restoreSession) ----

    /// <summary>
    /// Keeps the state of a socket that dropped for a reconnection within
    /// <see cref="ConnectionStateRecoveryOptions.MaxDisconnectionDuration"/>. Called only with recovery on, and
    /// not after a disconnection the client or the server asked for. The in-memory default keeps it in this
    /// process; a cluster adapter stores it where every node can read it.
    /// </summary>
    public virtual Task PersistSessionAsync(PersistedSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        Recovery?.Persist(session);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Finds the session of a reconnecting client (its private session id and the offset of the last packet it
    /// received) and the packets it missed; null when it cannot be recovered (unknown, expired, offset no longer
    /// kept): the client then gets a fresh socket. A session is restored at most once.
    /// </summary>
    public virtual Task<RestoredSession?> RestoreSessionAsync(string privateSessionId, string offset)
    {
        ArgumentNullException.ThrowIfNull(privateSessionId);
        ArgumentNullException.ThrowIfNull(offset);
        if (Recovery is not { } log)
        {
            return Task.FromResult<RestoredSession?>(null);
        }
        var restored = log.Restore(privateSessionId, offset, out var result);
        ReportRecoveryAttempt(result);
        return Task.FromResult(restored);
    }

    /// <summary>
    /// Counts a reconnection that asked for recovery by its outcome (metric <c>parley.socketio.recovery.attempts</c>):
    /// <c>recovered</c>, <c>unknown_session</c> (none, expired or taken), <c>expired</c>, <c>unknown_offset</c> (not
    /// an offset of the log, or no longer in it). An adapter that overrides <see cref="RestoreSessionAsync"/> calls it
    /// once per call; <c>error</c> (the call threw) is counted by the caller.
    /// </summary>
    protected void ReportRecoveryAttempt(string result) => Namespace.Server.Metrics.RecoveryAttempt(result);

    /// <summary>
    /// Starts buffering what this node delivers while a session is restored, for an adapter whose
    /// <see cref="RestoreSessionAsync"/> reads its log without a lock shared with the deliveries (a cluster adapter);
    /// null when it needs none. Called before <see cref="RestoreSessionAsync"/>; ended by
    /// <see cref="AttachRecovered"/> or <see cref="EndRestore"/>.
    /// </summary>
    internal virtual RestoreCapture? BeginRestore() => null;

    /// <summary>Ends a capture whose socket will not be attached (no session, refused, connection gone).</summary>
    internal virtual void EndRestore(RestoreCapture capture)
    {
    }

    /// <summary>
    /// Adds a recovered socket (<paramref name="add"/> joins its rooms and queues its CONNECT ack) and queues the
    /// packets it missed, so that every packet after its offset reaches it once, in order, before the live ones. The
    /// in-memory log does both under its lock, which its broadcasts hold too (see <see cref="RecoveryLog"/>).
    /// Returns false when the socket was not added (the connection closed); <paramref name="incomplete"/> is true
    /// when the socket was added but cannot have everything it missed (the caller then closes the connection with a
    /// recoverable reason, and the client recovers again from its last offset).
    /// </summary>
    internal virtual bool AttachRecovered(ParleySocket socket, RestoredSession restored, Func<bool> add, out bool incomplete)
    {
        incomplete = false;
        if (Recovery is not { } log)
        {
            return add();
        }
        lock (log.Lock)
        {
            if (!add())
            {
                return false;
            }
            var missed = restored.MissedPackets;
            var last = missed.Count > 0 ? missed[^1].Offset : socket.RestoredOffset;
            // Broadcast between the restore and now, when the socket was not in its rooms yet.
            var since = last is null ? [] : log.MissedAfter(last, [.. socket.Rooms]);
            socket.SendReplayed(missed);
            socket.SendReplayed(since);
            SocketLog.SessionRecovered(Namespace.Server.Logger, socket.Id, Namespace.Name, missed.Count + since.Count);
        }
        return true;
    }

    /// <summary>
    /// Whether <paramref name="socket"/> already got <paramref name="packet"/> from its replay: a cluster adapter
    /// delivers its log's packets to a recovered socket from the replay and live, and one that reaches it both ways
    /// is sent once.
    /// </summary>
    private protected virtual bool WasReplayed(ParleySocket socket, BroadcastPacket packet) => false;

    /// <summary>
    /// Broadcasts expecting acks; <paramref name="onClientCount"/> is called once per node with the number of
    /// clients reached there, <paramref name="onAck"/> once per client answer (its arguments).
    /// </summary>
    public virtual Task BroadcastWithAckAsync(BroadcastPacket packet, BroadcastOptions options, Action<int> onClientCount, Action<EventArgument[]?> onAck)
    {
        onClientCount(BroadcastWithAckLocal(packet, options, onAck));
        return Task.CompletedTask;
    }

    /// <summary>The matching sockets of every node.</summary>
    public virtual Task<IReadOnlyList<RemoteSocket>> FetchSocketsAsync(BroadcastOptions options) =>
        Task.FromResult(FetchSocketsLocal(options));

    /// <summary>The matching sockets of this node.</summary>
    public IReadOnlyList<RemoteSocket> FetchSocketsLocal(BroadcastOptions options)
    {
        var (sockets, count) = SelectLocal(options);
        try
        {
            var list = new List<RemoteSocket>(count);
            for (var i = 0; i < count; i++)
            {
                list.Add(RemoteSocket.FromLocal(sockets[i]));
            }
            return list;
        }
        finally
        {
            Release(sockets);
        }
    }

    /// <summary>Makes the matching sockets of every node join <paramref name="rooms"/>.</summary>
    public virtual Task AddSocketsAsync(BroadcastOptions options, IReadOnlyList<string> rooms)
    {
        AddSocketsLocal(options, rooms);
        return Task.CompletedTask;
    }

    /// <summary>Makes the matching local sockets join <paramref name="rooms"/>.</summary>
    public void AddSocketsLocal(BroadcastOptions options, IReadOnlyList<string> rooms)
    {
        var (sockets, count) = SelectLocal(options);
        try
        {
            for (var i = 0; i < count; i++)
            {
                sockets[i].Join(rooms);
            }
        }
        finally
        {
            Release(sockets);
        }
    }

    /// <summary>Makes the matching sockets of every node leave <paramref name="rooms"/>.</summary>
    public virtual Task DelSocketsAsync(BroadcastOptions options, IReadOnlyList<string> rooms)
    {
        DelSocketsLocal(options, rooms);
        return Task.CompletedTask;
    }

    /// <summary>Makes the matching local sockets leave <paramref name="rooms"/>.</summary>
    public void DelSocketsLocal(BroadcastOptions options, IReadOnlyList<string> rooms)
    {
        var (sockets, count) = SelectLocal(options);
        try
        {
            for (var i = 0; i < count; i++)
            {
                foreach (var room in rooms)
                {
                    sockets[i].Leave(room);
                }
            }
        }
        finally
        {
            Release(sockets);
        }
    }

    /// <summary>Disconnects the matching sockets of every node.</summary>
    public virtual Task DisconnectSocketsAsync(BroadcastOptions options, bool close)
    {
        DisconnectSocketsLocal(options, close);
        return Task.CompletedTask;
    }

    /// <summary>Disconnects the matching local sockets.</summary>
    public void DisconnectSocketsLocal(BroadcastOptions options, bool close)
    {
        var (sockets, count) = SelectLocal(options);
        try
        {
            for (var i = 0; i < count; i++)
            {
                sockets[i].Disconnect(close);
            }
        }
        finally
        {
            Release(sockets);
        }
    }

    /// <summary>
    /// Delivers a server-side event another node sent (<see cref="Namespace.ServerSideEmitAsync"/> there) to this
    /// namespace's <see cref="Namespace.On"/> handlers; <paramref name="ack"/>, when the sender waits for
    /// acknowledgements, receives the handler's answer (socket.io-adapter's <c>onServerSideEmit</c>). A cluster
    /// adapter calls it for each server-side event it receives from another node.
    /// </summary>
    protected void OnServerSideEmit(string eventName, EventArgument[] args, Action<object?[]>? ack)
    {
        ArgumentNullException.ThrowIfNull(eventName);
        ArgumentNullException.ThrowIfNull(args);
        Namespace.OnServerSideEmit(eventName, args, ack);
    }

    /// <summary>Sends an event to the other nodes' <c>Namespace.On</c> handlers; nothing to do on one node.</summary>
    public virtual Task ServerSideEmitAsync(SocketPayload payload) => Task.CompletedTask;

    /// <summary>Sends an event to the other nodes and collects one answer per node; none on one node.</summary>
    public virtual Task<IReadOnlyList<JsonElement>> ServerSideEmitWithAckAsync(SocketPayload payload, TimeSpan timeout, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<JsonElement>>([]);

    /// <summary>How many nodes serve this namespace (1 for the in-memory adapter).</summary>
    public virtual Task<int> ServerCountAsync() => Task.FromResult(1);

    /// <summary>
    /// How long a broadcast with acks waits when the caller set no <c>Timeout</c>: null (for as long as it takes)
    /// on one node; a cluster adapter bounds it by how long it keeps listening for other nodes' answers.
    /// </summary>
    public virtual TimeSpan? DefaultAckTimeout => null;

    /// <summary>
    /// How long a broadcast with these flags waits for acks, on the emitting node and on every node that serves it:
    /// its own <c>Timeout</c>, else <see cref="DefaultAckTimeout"/> unless it is local.
    /// </summary>
    internal TimeSpan? AckTimeout(BroadcastFlags flags) => flags.Timeout ?? (flags.Local ? null : DefaultAckTimeout);
}

/// <summary>The default adapter: one node, everything in memory.</summary>
public sealed class InMemoryAdapter(Namespace @namespace) : ParleyAdapter(@namespace);

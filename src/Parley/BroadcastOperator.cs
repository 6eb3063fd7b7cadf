using Parley.Adapters;
using Parley.Serialization;

namespace Parley;

/// <summary>
/// An immutable description of a broadcast (socket.io's <c>BroadcastOperator</c>): rooms, exceptions and flags,
/// then an action: emit, emit with acks, fetch, join, leave, disconnect. Every action goes through the adapter,
/// so it reaches every node of a cluster unless <see cref="Local"/> is set.
/// </summary>
public readonly struct BroadcastOperator
{
    private readonly Namespace _namespace;
    private readonly RoomSet _rooms;
    private readonly RoomSet _except;
    private readonly BroadcastFlags _flags;

    internal BroadcastOperator(Namespace @namespace)
        : this(@namespace, RoomSet.Empty, RoomSet.Empty, BroadcastFlags.Default)
    {
    }

    private BroadcastOperator(Namespace @namespace, RoomSet rooms, RoomSet except, BroadcastFlags flags)
    {
        _namespace = @namespace;
        _rooms = rooms;
        _except = except;
        _flags = flags;
    }

    /// <summary>Adds a target room.</summary>
    public BroadcastOperator To(string room) => new(_namespace, _rooms.Add(room), _except, _flags);

    /// <summary>Adds target rooms.</summary>
    public BroadcastOperator To(IEnumerable<string> rooms) => new(_namespace, _rooms.Union(rooms), _except, _flags);

    /// <summary>Same as <see cref="To(string)"/>.</summary>
    public BroadcastOperator In(string room) => To(room);

    /// <summary>Leaves out the sockets of a room.</summary>
    public BroadcastOperator Except(string room) => new(_namespace, _rooms, _except.Add(room), _flags);

    /// <summary>Leaves out the sockets of rooms.</summary>
    public BroadcastOperator Except(IEnumerable<string> rooms) => new(_namespace, _rooms, _except.Union(rooms), _flags);

    /// <summary>Only this node's sockets.</summary>
    public BroadcastOperator Local => new(_namespace, _rooms, _except, _flags with { Local = true });

    /// <summary>Dropped for sockets whose transport is busy.</summary>
    public BroadcastOperator Volatile => new(_namespace, _rooms, _except, _flags with { Volatile = true });

    /// <summary>Sets the compress flag.</summary>
    public BroadcastOperator Compress(bool compress) => new(_namespace, _rooms, _except, _flags with { Compress = compress });

    /// <summary>Sets how long <see cref="EmitWithAckAsync"/> waits for acknowledgements.</summary>
    public BroadcastOperator Timeout(TimeSpan timeout) => new(_namespace, _rooms, _except, _flags with { Timeout = timeout });

    private BroadcastOptions Options => new(_rooms, _except, _flags);

    /// <summary>
    /// Emits the event. The payload is serialized once and its frames encoded once for every local recipient;
    /// a cluster adapter publishes the same payload to the other nodes.
    /// </summary>
    public Task EmitAsync(string eventName, params object?[] args)
    {
        ArgumentNullException.ThrowIfNull(eventName);
        if (_namespace is ParentNamespace parent)
        {
            // socket.io's ParentBroadcastAdapter: a dynamic namespace's parent has no sockets of its own; its
            // broadcasts go to every child with the same rooms and flags (each child's packet names that child).
            var (rooms, except, flags) = (_rooms, _except, _flags);
            return Task.WhenAll(parent.Children.Select(child => new BroadcastOperator(child, rooms, except, flags).EmitAsync(eventName, args)));
        }
        var packet = new BroadcastPacket(_namespace.Name, SocketPayload.Create(eventName, args, _namespace.Server.WireOptions));
        return _flags.Local ? LocalBroadcast(packet) : _namespace.Adapter.BroadcastAsync(packet, Options);
    }

    private Task LocalBroadcast(BroadcastPacket packet)
    {
        _namespace.Adapter.BroadcastLocal(packet, Options);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Emits the event expecting an acknowledgement from every recipient on every node; returns the first
    /// argument of each answer. With <see cref="Timeout"/>, fails with <see cref="TimeoutException"/> when some
    /// client did not answer in time (socket.io: "operation has timed out"). Without it, a cluster adapter still
    /// bounds the wait (<see cref="ParleyAdapter.DefaultAckTimeout"/>), since it stops listening for remote answers.
    /// </summary>
    public async Task<IReadOnlyList<EventArgument>> EmitWithAckAsync(string eventName, object?[] args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(eventName);
        var packet = new BroadcastPacket(_namespace.Name, SocketPayload.Create(eventName, args, _namespace.Server.WireOptions));
        var collector = new AckCollector();
        // One delegate instance: the sockets hold it as their pending ack, and it is how they are found again.
        Action<EventArgument[]?> onAck = collector.Add;
        var publishing = _namespace.Adapter.BroadcastWithAckAsync(packet, Options, collector.AddExpected, onAck);
        var nodes = _flags.Local ? 1 : await _namespace.Adapter.ServerCountAsync();
        collector.ExpectNodes(nodes);
        await publishing;
        // Without a timeout a cluster adapter still bounds the wait: it stops listening for remote answers.
        try
        {
            return _namespace.Adapter.AckTimeout(_flags) is { } timeout
                ? await collector.Task.WaitAsync(timeout, cancellationToken)
                : await collector.Task.WaitAsync(cancellationToken);
        }
        catch (TimeoutException)
        {
            // The adapter drops the acks still pending on each node when the same timeout passes (socket.io #5442).
            throw new TimeoutException("operation has timed out");
        }
        catch (OperationCanceledException)
        {
            // Clients that never answer would keep their pending ack for as long as they stay connected
            // (broadcast-operator.ts: "cleanup pending acks"); other nodes drop theirs at their timeout.
            _namespace.CancelAcks(onAck);
            throw;
        }
    }

    /// <summary>The matching sockets of every node.</summary>
    public Task<IReadOnlyList<RemoteSocket>> FetchSocketsAsync() =>
        _flags.Local ? Task.FromResult(_namespace.Adapter.FetchSocketsLocal(Options)) : _namespace.Adapter.FetchSocketsAsync(Options);

    /// <summary>Makes the matching sockets join rooms.</summary>
    public Task SocketsJoinAsync(params string[] rooms)
    {
        if (_flags.Local)
        {
            _namespace.Adapter.AddSocketsLocal(Options, rooms);
            return Task.CompletedTask;
        }
        return _namespace.Adapter.AddSocketsAsync(Options, rooms);
    }

    /// <summary>Makes the matching sockets leave rooms.</summary>
    public Task SocketsLeaveAsync(params string[] rooms)
    {
        if (_flags.Local)
        {
            _namespace.Adapter.DelSocketsLocal(Options, rooms);
            return Task.CompletedTask;
        }
        return _namespace.Adapter.DelSocketsAsync(Options, rooms);
    }

    /// <summary>Disconnects the matching sockets; <paramref name="close"/> closes their connections too.</summary>
    public Task DisconnectSocketsAsync(bool close = false)
    {
        if (_flags.Local)
        {
            _namespace.Adapter.DisconnectSocketsLocal(Options, close);
            return Task.CompletedTask;
        }
        return _namespace.Adapter.DisconnectSocketsAsync(Options, close);
    }

    /// <summary>Collects the answers of a broadcast with acks: done when every reached client has answered.</summary>
    private sealed class AckCollector
    {
        private readonly Lock _lock = new();
        private readonly List<EventArgument> _responses = [];
        private readonly TaskCompletionSource<IReadOnlyList<EventArgument>> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _expectedClients;
        private int _reportedNodes;
        private int _expectedNodes = -1;

        public Task<IReadOnlyList<EventArgument>> Task => _done.Task;

        public void AddExpected(int clients)
        {
            lock (_lock)
            {
                _expectedClients += clients;
                _reportedNodes++;
                CheckLocked();
            }
        }

        public void ExpectNodes(int nodes)
        {
            lock (_lock)
            {
                _expectedNodes = nodes;
                CheckLocked();
            }
        }

        public void Add(EventArgument[]? args)
        {
            lock (_lock)
            {
                if (args is null)
                {
                    _expectedClients--; // the client disconnected before answering
                }
                else
                {
                    _responses.Add(args.Length > 0 ? args[0] : default);
                }
                CheckLocked();
            }
        }

        private void CheckLocked()
        {
            if (_expectedNodes >= 0 && _reportedNodes >= _expectedNodes && _responses.Count >= _expectedClients)
            {
                _done.TrySetResult([.. _responses]);
            }
        }
    }
}

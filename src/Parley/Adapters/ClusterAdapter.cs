using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Parley.Serialization;

namespace Parley.Adapters;

/// <summary>
/// A cluster-ready adapter: the .NET form of socket.io-adapter's <c>ClusterAdapter</c>
/// (packages/socket.io-adapter/lib/cluster-adapter.ts). Every cluster operation — broadcasts (with and without acks),
/// socketsJoin / socketsLeave / disconnectSockets, fetchSockets, serverSideEmit (with and without acks) — is written
/// here once, as <see cref="ClusterMessage"/>s with socket.io-adapter's types and data, so a transport is a thin class:
/// <list type="bullet">
/// <item>implement <see cref="PublishAsync"/> (to every other node) and <see cref="PublishResponseAsync"/> (to one node);</item>
/// <item>call <see cref="OnMessage"/> for each message it receives, in the order it receives them;</item>
/// <item>override <see cref="ParleyAdapter.ServerCountAsync"/> (or derive from <see cref="ClusterAdapterWithHeartbeat"/>, which counts nodes by their heartbeats);</item>
/// <item>start its subscriptions in <see cref="ParleyAdapter.InitAsync"/> and stop them in <see cref="ParleyAdapter.DisposeAsync"/>, calling the base.</item>
/// </list>
/// Room membership stays on each node (the <see cref="ParleyAdapter"/> base); only requests cross the transport.
/// A node's own messages and those of other namespaces are ignored by <see cref="OnMessage"/>, so a transport may
/// deliver everything it sees (a transport that reads its own broadcasts back says so with <see cref="ReadsBack"/>).
/// Connection state recovery across nodes lives in <c>ClusterAdapter.Recovery.cs</c>.
/// </summary>
public abstract partial class ClusterAdapter : ParleyAdapter
{
    private const int MaxQueuedServerEvents = 65_536;

    private readonly ConcurrentDictionary<string, PendingRequest> _requests = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, AckRequest> _ackRequests = new(StringComparer.Ordinal);
    private readonly Channel<Action> _serverEvents;
    private readonly Task _serverEventsWorker;
    private readonly CancellationTokenSource _disposing = new();
    private readonly Lock _broadcastOrder = new();
    private Task _lastDelivery = Task.CompletedTask;
    private long _publishFailures;
    private long _lastFailureLog;
    private long _droppedServerEvents;
    private int _disposed;

    /// <summary>Creates the adapter of <paramref name="namespace"/>, with a fresh uid.</summary>
    /// <exception cref="OptionsValidationException">An option is out of range (<see cref="ClusterAdapterOptionsValidator"/>).</exception>
    protected ClusterAdapter(Namespace @namespace, ClusterAdapterOptions? options = null)
        : this(@namespace, options, ClusterJson.RandomId())
    {
    }

    /// <summary>
    /// Creates the adapter of <paramref name="namespace"/> with the node id <paramref name="uid"/>, for a transport
    /// whose wire format has ids of its own (the classic Redis adapter's are six characters, npm uid2).
    /// </summary>
    /// <exception cref="OptionsValidationException">An option is out of range (<see cref="ClusterAdapterOptionsValidator"/>).</exception>
    /// <exception cref="ArgumentException"><paramref name="uid"/> is empty.</exception>
    protected ClusterAdapter(Namespace @namespace, ClusterAdapterOptions? options, string uid)
        : base(@namespace)
    {
        ArgumentException.ThrowIfNullOrEmpty(uid);
        Options = options ?? new ClusterAdapterOptions();
        if (new ClusterAdapterOptionsValidator().Validate(null, Options) is { Failed: true } result)
        {
            throw new OptionsValidationException(nameof(ClusterAdapterOptions), typeof(ClusterAdapterOptions), result.Failures);
        }
        Uid = uid;
        // Server-side event handlers are application code: they run in order on a worker of their own, never on the
        // transport's read loop, which a handler that blocks would stall for every namespace.
        _serverEvents = Channel.CreateBounded<Action>(new BoundedChannelOptions(MaxQueuedServerEvents) { SingleReader = true });
        _serverEventsWorker = Task.Run(RunServerEventsAsync);
    }

    /// <summary>
    /// A fresh id as cluster-adapter.ts <c>randomId</c> makes them (<c>randomBytes(8).toString("hex")</c>): this
    /// contract's node uids and request ids.
    /// </summary>
    protected static string NewId() => ClusterJson.RandomId();

    /// <summary>This node's id in the cluster (<see cref="NewId"/> unless the transport gave its own).</summary>
    public string Uid { get; }

    /// <summary>The timeouts.</summary>
    protected ClusterAdapterOptions Options { get; }

    /// <summary>Cancelled when the adapter is disposed.</summary>
    protected CancellationToken Disposing => _disposing.Token;

    /// <summary>
    /// A broadcast with acks across the cluster waits at most <see cref="ClusterAdapterOptions.RequestsTimeout"/> when
    /// the caller set no timeout: remote answers are only listened for that long.
    /// </summary>
    public override TimeSpan? DefaultAckTimeout => Options.RequestsTimeout;

    /// <summary>
    /// Sends a message to every other node (upstream <c>doPublish</c>) and returns its offset in the transport's log
    /// (a Redis stream entry id), or null when the transport has none. A failure is logged by the caller; a request
    /// whose publish fails stops waiting for answers.
    /// </summary>
    protected abstract Task<string?> PublishAsync(ClusterMessage message);

    /// <summary>Sends an answer to the node <paramref name="requesterUid"/> (upstream <c>doPublishResponse</c>).</summary>
    protected abstract Task PublishResponseAsync(string requesterUid, ClusterMessage response);

    /// <summary>The other nodes' uids when the adapter tracks them (heartbeats): requests then wait for exactly those.</summary>
    private protected virtual IReadOnlyCollection<string>? KnownNodes => null;

    // ---- operations ----

    /// <summary>
    /// Publishes a BROADCAST <c>{packet:{type:2,data,nsp}, opts}</c> for the other nodes and delivers to this node's
    /// sockets. Without connection state recovery the local delivery comes first and the publish is not awaited
    /// (while the transport is down the others miss it; the failure is logged). With it, a broadcast that is not
    /// volatile waits for its publish, whose answer is the packet's <see cref="BroadcastPacket.Offset"/>
    /// (upstream <c>addOffsetIfNecessary</c>), and local deliveries keep the order of the publishes, so a client's
    /// last offset is always that of the last packet it got.
    /// </summary>
    public override async Task BroadcastAsync(BroadcastPacket packet, BroadcastOptions options)
    {
        ArgumentNullException.ThrowIfNull(packet);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Flags.Local)
        {
            Deliver(packet, options);
            return;
        }
        var message = CreateBroadcast(packet, options, requestId: null);
        if (!KeepsOffset(options))
        {
            Deliver(packet, options);
            Publish(message);
            return;
        }
        var delivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task previous;
        Task<string?> publishing;
        // The publish starts in the order tickets are taken, so a transport that keeps the order of its publishes
        // (one connection, a log) hands out offsets in ticket order, and local deliveries follow the same order.
        lock (_broadcastOrder)
        {
            previous = _lastDelivery;
            _lastDelivery = delivered.Task;
            publishing = PublishAndLogAsync(message);
        }
        try
        {
            var offset = await publishing.ConfigureAwait(false);
            await previous.ConfigureAwait(false);
            if (!string.IsNullOrEmpty(offset))
            {
                if (ReadsBack(offset))
                {
                    // Delivered when the log hands it back (OnMessage), between the other nodes' packets around it.
                    // The next broadcast need not wait for that; the caller does, so that what it sends after this
                    // (a direct ack, a disconnect) still follows it, as when the delivery came right after the publish.
                    delivered.TrySetResult();
                    await WaitReadBackAsync(offset).ConfigureAwait(false);
                    return;
                }
                packet.Offset = offset;
            }
            Deliver(packet, options);
        }
        finally
        {
            delivered.TrySetResult();
        }
    }

    /// <summary>Whether a broadcast gets an offset: the transport has them, connection state recovery is on, and it is not volatile.</summary>
    private bool KeepsOffset(BroadcastOptions options) => HasOffsets && Namespace.Server.Options.ConnectionStateRecovery is not null && !options.Flags.Volatile;

    /// <summary>
    /// Whether <see cref="PublishAsync"/> answers a broadcast with its offset in a log (true unless overridden). A
    /// transport without a log (pub/sub) says false: a broadcast is then always delivered to this node's sockets
    /// first, without waiting for its publish, even with connection state recovery on.
    /// </summary>
    protected virtual bool HasOffsets => true;

    /// <summary>
    /// Connection state recovery needs a transport that keeps messages (offsets) and sessions where every node can
    /// read them: this contract has none of its own. A transport with a log overrides both (the Redis Streams adapter
    /// does); without that, nothing is kept and a reconnecting client gets a fresh socket.
    /// </summary>
    public override Task PersistSessionAsync(PersistedSession session) => Task.CompletedTask;

    /// <inheritdoc cref="PersistSessionAsync"/>
    /// <remarks>
    /// A transport that overrides it reads its log without any lock shared with this node's deliveries: this class
    /// captures what it delivers from just before the call until the socket has joined its rooms, and sends each
    /// packet after the client's offset once, in order (see <c>docs/recovery.md</c>). The transport only has to
    /// return the missed packets in log order, each with its <see cref="BroadcastPacket.Offset"/>, and to report the
    /// outcome with <see cref="ParleyAdapter.ReportRecoveryAttempt"/>.
    /// </remarks>
    public override Task<RestoredSession?> RestoreSessionAsync(string privateSessionId, string offset) => Task.FromResult<RestoredSession?>(null);

    /// <summary>
    /// The BROADCAST message of <paramref name="packet"/> (with <paramref name="requestId"/> when it expects acks).
    /// The packet is <c>{type:2, data}</c> without <c>nsp</c>: cluster-adapter.ts publishes the packet socket.io's
    /// BroadcastOperator built, before the in-memory adapter adds the namespace (docs/wire-formats.md §5.2).
    /// </summary>
    private protected ClusterMessage CreateBroadcast(BroadcastPacket packet, BroadcastOptions options, string? requestId) =>
        Message(ClusterMessageType.Broadcast, (packet, options, requestId), static (w, s) =>
        {
            w.WriteStartObject();
            w.WritePropertyName("packet");
            w.WriteStartObject();
            w.WriteNumber("type", 2);
            w.WritePropertyName("data");
            w.WriteRawValue(s.packet.Payload.Json.Span, skipInputValidation: true);
            w.WriteEndObject();
            if (s.requestId is not null)
            {
                w.WriteString("requestId", s.requestId);
            }
            w.WritePropertyName("opts");
            ClusterJson.WriteOptions(w, s.options);
            w.WriteEndObject();
        }, packet.Payload.Attachments).With(options, requestId);

    /// <summary>
    /// BROADCAST with a request id: every other node answers BROADCAST_CLIENT_COUNT, then BROADCAST_ACK per client.
    /// The request is forgotten after its timeout (upstream: <c>setTimeout(…, opts.flags.timeout)</c>).
    /// </summary>
    public override Task BroadcastWithAckAsync(BroadcastPacket packet, BroadcastOptions options, Action<int> onClientCount, Action<EventArgument[]?> onAck)
    {
        ArgumentNullException.ThrowIfNull(packet);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(onClientCount);
        ArgumentNullException.ThrowIfNull(onAck);
        if (!options.Flags.Local)
        {
            var requestId = ClusterJson.RandomId();
            _ackRequests[requestId] = new AckRequest(onClientCount, onAck);
            _ = ForgetAckLaterAsync(requestId, (options.Flags.Timeout ?? Options.RequestsTimeout) + TimeSpan.FromSeconds(1));
            Publish(CreateBroadcast(packet, options, requestId));
        }
        onClientCount(BroadcastWithAckLocal(packet, options, onAck));
        return Task.CompletedTask;
    }

    private async Task ForgetAckLaterAsync(string requestId, TimeSpan delay)
    {
        await Task.Delay(delay, Namespace.Server.Time).ConfigureAwait(false);
        _ackRequests.TryRemove(requestId, out _);
    }

    /// <summary>SOCKETS_JOIN <c>{opts, rooms}</c>, then this node's sockets.</summary>
    public override Task AddSocketsAsync(BroadcastOptions options, IReadOnlyList<string> rooms)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(rooms);
        if (!options.Flags.Local)
        {
            Publish(Message(ClusterMessageType.SocketsJoin, (options, rooms), WriteRoomsData).With(options, null));
        }
        AddSocketsLocal(options, rooms);
        return Task.CompletedTask;
    }

    /// <summary>SOCKETS_LEAVE <c>{opts, rooms}</c>, then this node's sockets.</summary>
    public override Task DelSocketsAsync(BroadcastOptions options, IReadOnlyList<string> rooms)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(rooms);
        if (!options.Flags.Local)
        {
            Publish(Message(ClusterMessageType.SocketsLeave, (options, rooms), WriteRoomsData).With(options, null));
        }
        DelSocketsLocal(options, rooms);
        return Task.CompletedTask;
    }

    private static void WriteRoomsData(Utf8JsonWriter w, (BroadcastOptions Options, IReadOnlyList<string> Rooms) s)
    {
        w.WriteStartObject();
        w.WritePropertyName("opts");
        ClusterJson.WriteOptions(w, s.Options);
        ClusterJson.WriteArray(w, "rooms", s.Rooms);
        w.WriteEndObject();
    }

    /// <summary>DISCONNECT_SOCKETS <c>{opts, close}</c>, then this node's sockets.</summary>
    public override Task DisconnectSocketsAsync(BroadcastOptions options, bool close)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Flags.Local)
        {
            Publish(Message(ClusterMessageType.DisconnectSockets, (options, close), static (w, s) =>
            {
                w.WriteStartObject();
                w.WritePropertyName("opts");
                ClusterJson.WriteOptions(w, s.options);
                w.WriteBoolean("close", s.close);
                w.WriteEndObject();
            }).With(options, null));
        }
        DisconnectSocketsLocal(options, close);
        return Task.CompletedTask;
    }

    /// <summary>
    /// FETCH_SOCKETS <c>{opts, requestId}</c>: this node's sockets, then every other node's FETCH_SOCKETS_RESPONSE.
    /// Throws <see cref="TimeoutException"/> as upstream when a node does not answer within the timeout.
    /// </summary>
    public override async Task<IReadOnlyList<RemoteSocket>> FetchSocketsAsync(BroadcastOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var local = FetchSocketsLocal(options);
        if (options.Flags.Local)
        {
            return local;
        }
        var request = await StartRequestAsync(ClusterMessageType.FetchSockets).ConfigureAwait(false);
        if (request is null)
        {
            return local;
        }
        Publish(Message(ClusterMessageType.FetchSockets, (options, request.Id), static (w, s) =>
        {
            w.WriteStartObject();
            w.WritePropertyName("opts");
            ClusterJson.WriteOptions(w, s.options);
            w.WriteString("requestId", s.Id);
            w.WriteEndObject();
        }).With(options, request.Id), request);
        var list = new List<RemoteSocket>(local);
        foreach (var (sockets, _) in await WaitAsync(request, options.Flags.Timeout ?? Options.RequestsTimeout, CancellationToken.None).ConfigureAwait(false))
        {
            if (sockets.ValueKind == JsonValueKind.Array)
            {
                foreach (var socket in sockets.EnumerateArray())
                {
                    list.Add(ClusterJson.ReadSocket(Namespace, socket));
                }
            }
        }
        return list;
    }

    /// <summary>SERVER_SIDE_EMIT <c>{packet:[event,...args]}</c>.</summary>
    public override Task ServerSideEmitAsync(SocketPayload payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        Publish(CreateServerSideEmit(payload, null));
        return Task.CompletedTask;
    }

    /// <summary>SERVER_SIDE_EMIT <c>{requestId, packet}</c>: one SERVER_SIDE_EMIT_RESPONSE per other node.</summary>
    public override async Task<IReadOnlyList<JsonElement>> ServerSideEmitWithAckAsync(SocketPayload payload, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var request = await StartRequestAsync(ClusterMessageType.ServerSideEmit).ConfigureAwait(false);
        if (request is null)
        {
            return [];
        }
        Publish(CreateServerSideEmit(payload, request.Id), request);
        var answers = await WaitAsync(request, timeout, cancellationToken).ConfigureAwait(false);
        return answers.ConvertAll(static a => a.Value);
    }

    private ClusterMessage CreateServerSideEmit(SocketPayload payload, string? requestId) =>
        Message(ClusterMessageType.ServerSideEmit, (payload, requestId), static (w, s) =>
        {
            w.WriteStartObject();
            if (s.requestId is not null)
            {
                w.WriteString("requestId", s.requestId);
            }
            w.WritePropertyName("packet");
            w.WriteRawValue(s.payload.Json.Span, skipInputValidation: true);
            w.WriteEndObject();
        }, payload.Attachments).With(null, requestId);

    /// <summary>A request waiting for the other nodes, or null when there are none to ask.</summary>
    private async Task<PendingRequest?> StartRequestAsync(ClusterMessageType type)
    {
        PendingRequest request;
        if (KnownNodes is { } known)
        {
            if (known.Count == 0)
            {
                return null;
            }
            request = new PendingRequest(ClusterJson.RandomId(), type, known.Count, new HashSet<string>(known, StringComparer.Ordinal));
        }
        else
        {
            var others = await ServerCountAsync().ConfigureAwait(false) - 1;
            if (others <= 0)
            {
                return null;
            }
            request = new PendingRequest(ClusterJson.RandomId(), type, others, null);
        }
        _requests[request.Id] = request;
        return request;
    }

    private async Task<List<(JsonElement Value, IReadOnlyList<ReadOnlyMemory<byte>> Attachments)>> WaitAsync(PendingRequest request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var time = Namespace.Server.Time;
        var started = time.GetTimestamp();
        try
        {
            await request.Done.Task.WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
            OnRequestEnded(request.Type, time.GetElapsedTime(started), timedOut: false);
            return request.TakeResults();
        }
        catch (TimeoutException)
        {
            OnRequestEnded(request.Type, time.GetElapsedTime(started), timedOut: true);
            throw new TimeoutException($"timeout reached: only {request.Received} responses received out of {request.Expected}");
        }
        finally
        {
            _requests.TryRemove(request.Id, out _);
        }
    }

    /// <summary>
    /// A request that waited for the other nodes (FETCH_SOCKETS or SERVER_SIDE_EMIT with acks) got all its answers,
    /// was abandoned, or timed out after <paramref name="elapsed"/>: the hook for a transport's metrics.
    /// </summary>
    protected virtual void OnRequestEnded(ClusterMessageType type, TimeSpan elapsed, bool timedOut)
    {
    }

    /// <summary>A node left (heartbeats stopped or ADAPTER_CLOSE): requests stop waiting for it.</summary>
    private protected void ForgetNode(string uid)
    {
        foreach (var request in _requests.Values)
        {
            request.Forget(uid);
        }
    }

    // ---- publishing ----

    private protected ClusterMessage Message(ClusterMessageType type) => new(Uid, Namespace.Name, type, ReadOnlyMemory<byte>.Empty);

    private ClusterMessage Message<TState>(ClusterMessageType type, TState state, Action<Utf8JsonWriter, TState> write, IReadOnlyList<ReadOnlyMemory<byte>>? attachments = null) =>
        new(Uid, Namespace.Name, type, ClusterJson.Write(state, write), attachments);

    /// <summary>Called before each publish (a heartbeat adapter postpones its next heartbeat).</summary>
    private protected virtual void OnPublishing()
    {
    }

    /// <summary>Publishes without waiting; a failure is logged (at most once a second) and ends <paramref name="request"/>.</summary>
    private protected void Publish(ClusterMessage message, PendingRequest? request = null) => _ = PublishAndLogAsync(message, request);

    /// <summary>Publishes and returns the offset, or null when the publish failed (logged).</summary>
    private protected async Task<string?> PublishAndLogAsync(ClusterMessage message, PendingRequest? request = null)
    {
        OnPublishing();
        try
        {
            return await PublishAsync(message).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            request?.Abandon();
            OnPublishFailed(message, e);
            return null;
        }
    }

    private void PublishResponse(string requesterUid, ClusterMessage response) => _ = PublishResponseAndLogAsync(requesterUid, response);

    private async Task PublishResponseAndLogAsync(string requesterUid, ClusterMessage response)
    {
        try
        {
            await PublishResponseAsync(requesterUid, response).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            OnPublishFailed(response, e);
        }
    }

    /// <summary>
    /// A publish failed: the other nodes miss <paramref name="message"/>, and a request it carried has stopped waiting.
    /// By default logged at most once a second with the count since the last report; a transport that reports its
    /// failures itself, with its endpoint, overrides this to stay silent.
    /// </summary>
    protected virtual void OnPublishFailed(ClusterMessage message, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(message);
        var failed = Interlocked.Increment(ref _publishFailures);
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastFailureLog);
        if (now - last >= 1000 && Interlocked.CompareExchange(ref _lastFailureLog, now, last) == last)
        {
            Interlocked.Exchange(ref _publishFailures, 0);
            ClusterLog.PublishFailed(Namespace.Server.Logger, Namespace.Name, message.Type, failed, exception);
        }
    }

    // ---- receiving ----

    /// <summary>
    /// Handles a message from the transport (upstream <c>onMessage</c>), requests and answers alike; ignores this
    /// node's own and other namespaces'. <paramref name="offset"/> is the message's position in the transport's log,
    /// when it has one. A malformed message is logged and dropped. Call it in the order messages arrive.
    /// </summary>
    protected void OnMessage(ClusterMessage message, string? offset = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Namespace != Namespace.Name)
        {
            return;
        }
        if (message.Uid == Uid)
        {
            if (message.Type == ClusterMessageType.Broadcast && !string.IsNullOrEmpty(offset))
            {
                OnOwnBroadcast(message, offset); // see ReadsBack
                OnReadBack(offset);
            }
            return;
        }
        try
        {
            Handle(message, offset);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or KeyNotFoundException or IndexOutOfRangeException)
        {
            ClusterLog.MalformedMessage(Namespace.Server.Logger, Namespace.Name, message.Uid, message.Type, e);
        }
        if (!string.IsNullOrEmpty(offset))
        {
            OnReadBack(offset);
        }
    }

    /// <summary>A message from another node was seen (heartbeat adapters track the node).</summary>
    private protected virtual void OnNodeMessage(ClusterMessage message)
    {
    }

    private void Handle(ClusterMessage message, string? offset)
    {
        OnNodeMessage(message);
        var data = message.Data;
        var uid = message.Uid;
        switch (message.Type)
        {
            case ClusterMessageType.Broadcast:
            {
                if (!TryReadBroadcast(message, out var broadcast, out var options, out var requestId))
                {
                    return;
                }
                if (requestId is null)
                {
                    OnRemoteBroadcast(broadcast, options, offset);
                    return;
                }
                var count = BroadcastWithAckLocal(broadcast, options, args =>
                {
                    if (args is null)
                    {
                        return; // the client left before answering
                    }
                    var (value, attachments) = FirstArgument(args.Length == 0 ? [] : [args[0]]);
                    PublishResponse(uid, Message(ClusterMessageType.BroadcastAck, (requestId, value), WriteRequestIdAndPacket, attachments));
                });
                PublishResponse(uid, Message(ClusterMessageType.BroadcastClientCount, (requestId, count), static (w, s) =>
                {
                    w.WriteStartObject();
                    w.WriteString("requestId", s.requestId);
                    w.WriteNumber("clientCount", s.count);
                    w.WriteEndObject();
                }));
                return;
            }
            case ClusterMessageType.SocketsJoin:
                AddSocketsLocal(ReadOptions(data), [.. ClusterJson.ReadSet(data, "rooms")]);
                return;
            case ClusterMessageType.SocketsLeave:
                DelSocketsLocal(ReadOptions(data), [.. ClusterJson.ReadSet(data, "rooms")]);
                return;
            case ClusterMessageType.DisconnectSockets:
                DisconnectSocketsLocal(ReadOptions(data), ClusterJson.TryGet(data, "close", out var close) && close.ValueKind == JsonValueKind.True);
                return;
            case ClusterMessageType.FetchSockets:
            {
                if (ClusterJson.GetString(data, "requestId") is not { } requestId)
                {
                    return;
                }
                var sockets = FetchSocketsLocal(ReadOptions(data));
                PublishResponse(uid, Message(ClusterMessageType.FetchSocketsResponse, (requestId, sockets), static (w, s) =>
                {
                    w.WriteStartObject();
                    w.WriteString("requestId", s.requestId);
                    w.WriteStartArray("sockets");
                    foreach (var socket in s.sockets)
                    {
                        ClusterJson.WriteSocket(w, socket);
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }));
                return;
            }
            case ClusterMessageType.ServerSideEmit:
                DeliverServerSideEmit(message, data);
                return;
            case ClusterMessageType.FetchSocketsResponse:
            case ClusterMessageType.ServerSideEmitResponse:
            case ClusterMessageType.BroadcastClientCount:
            case ClusterMessageType.BroadcastAck:
                // "extending classes may not make a distinction between a ClusterMessage and a ClusterResponse"
                OnResponse(message);
                return;
            default:
                return; // heartbeats and ADAPTER_CLOSE: the heartbeat adapter saw them in OnNodeMessage
        }
    }

    private bool TryReadBroadcast(ClusterMessage message, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out BroadcastPacket? broadcast,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out BroadcastOptions? options, out string? requestId)
    {
        var data = message.Data;
        broadcast = null;
        options = null;
        requestId = null;
        if (!ClusterJson.TryGet(data, "packet", out var packet) || !ClusterJson.TryGet(packet, "data", out var packetData) || packetData.ValueKind != JsonValueKind.Array)
        {
            return false;
        }
        options = ClusterJson.TryGet(data, "opts", out var opts) ? ClusterJson.ReadOptions(opts) : new BroadcastOptions();
        broadcast = new BroadcastPacket(Namespace.Name, new SocketPayload(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(packetData).ToArray(), message.Attachments));
        requestId = ClusterJson.GetString(data, "requestId");
        return true;
    }

    /// <summary>
    /// Delivers another node's broadcast to this node's sockets. <paramref name="offset"/> is the message's offset in
    /// the transport's log (connection state recovery appends it to the packet).
    /// </summary>
    private void OnRemoteBroadcast(BroadcastPacket packet, BroadcastOptions options, string? offset)
    {
        if (!string.IsNullOrEmpty(offset) && KeepsOffset(options))
        {
            packet.Offset = offset;
        }
        Deliver(packet, options);
    }

    private static BroadcastOptions ReadOptions(JsonElement data) =>
        ClusterJson.TryGet(data, "opts", out var opts) ? ClusterJson.ReadOptions(opts) : new BroadcastOptions();

    private static void WriteRequestIdAndPacket(Utf8JsonWriter w, (string RequestId, JsonElement Value) s)
    {
        w.WriteStartObject();
        w.WriteString("requestId", s.RequestId);
        w.WritePropertyName("packet");
        s.Value.WriteTo(w);
        w.WriteEndObject();
    }

    /// <summary>The first of <paramref name="values"/> (an ack's answer: "only one argument is expected") as JSON + attachments.</summary>
    private (JsonElement Value, IReadOnlyList<ReadOnlyMemory<byte>> Attachments) FirstArgument(object?[] values)
    {
        // Re-serialized so placeholders number into this value's own attachments, with the server's wire options.
        var payload = SocketPayload.Create(null, values.Length == 0 ? [] : [values[0]], Namespace.Server.WireOptions);
        using var document = JsonDocument.Parse(payload.Json);
        var root = document.RootElement;
        return (root.GetArrayLength() > 0 ? root[0].Clone() : ClusterJson.Null, payload.Attachments);
    }

    /// <summary>Runs the <c>Namespace.On</c> handlers for another node's event, on the server-events worker.</summary>
    private void DeliverServerSideEmit(ClusterMessage message, JsonElement data)
    {
        if (!ClusterJson.TryGet(data, "packet", out var packet) || packet.ValueKind != JsonValueKind.Array || packet.GetArrayLength() == 0 ||
            packet[0].ValueKind != JsonValueKind.String)
        {
            return;
        }
        var eventName = packet[0].GetString()!;
        var args = new EventArgument[packet.GetArrayLength() - 1];
        for (var i = 0; i < args.Length; i++)
        {
            args[i] = new EventArgument(packet[i + 1], message.Attachments);
        }
        Action<object?[]>? ack = null;
        if (ClusterJson.GetString(data, "requestId") is { } requestId)
        {
            var called = 0;
            var requester = message.Uid;
            ack = values =>
            {
                if (Interlocked.Exchange(ref called, 1) == 1)
                {
                    return;
                }
                var (value, attachments) = FirstArgument(values);
                PublishResponse(requester, Message(ClusterMessageType.ServerSideEmitResponse, (requestId, value), WriteRequestIdAndPacket, attachments));
            };
        }
        if (!_serverEvents.Writer.TryWrite(() => OnServerSideEmit(eventName, args, ack)))
        {
            var dropped = Interlocked.Increment(ref _droppedServerEvents);
            if ((dropped & (dropped - 1)) == 0)
            {
                // 1, 2, 4, 8…: a handler stuck for good is reported without flooding the log.
                ClusterLog.ServerEventsDropped(Namespace.Server.Logger, Namespace.Name, dropped);
            }
        }
    }

    private async Task RunServerEventsAsync()
    {
        var reader = _serverEvents.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var run))
            {
                run();
            }
        }
    }

    /// <summary>Handles an answer to one of this node's requests (upstream <c>onResponse</c>).</summary>
    private void OnResponse(ClusterMessage response)
    {
        var data = response.Data;
        if (ClusterJson.GetString(data, "requestId") is not { } requestId)
        {
            return;
        }
        switch (response.Type)
        {
            case ClusterMessageType.BroadcastClientCount:
                if (_ackRequests.TryGetValue(requestId, out var counted))
                {
                    counted.OnClientCount(data.TryGetProperty("clientCount", out var n) && n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out var count) ? Math.Max(0, count) : 0);
                }
                return;
            case ClusterMessageType.BroadcastAck:
                if (_ackRequests.TryGetValue(requestId, out var acked))
                {
                    acked.OnAck([new EventArgument(data.TryGetProperty("packet", out var p) ? p : ClusterJson.Null, response.Attachments)]);
                }
                return;
            case ClusterMessageType.FetchSocketsResponse:
                if (_requests.TryGetValue(requestId, out var fetch) && fetch.Type == ClusterMessageType.FetchSockets)
                {
                    fetch.Add(response.Uid, data.TryGetProperty("sockets", out var sockets) ? sockets : default, response.Attachments);
                }
                return;
            case ClusterMessageType.ServerSideEmitResponse:
                if (_requests.TryGetValue(requestId, out var emit) && emit.Type == ClusterMessageType.ServerSideEmit)
                {
                    emit.Add(response.Uid, data.TryGetProperty("packet", out var packet) ? packet : ClusterJson.Null, response.Attachments);
                }
                return;
        }
    }

    /// <summary>Stops waiting for answers and stops the server-events worker. A transport calls it from its own dispose.</summary>
    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await _disposing.CancelAsync().ConfigureAwait(false);
        foreach (var request in _requests.Values)
        {
            request.Abandon();
        }
        _serverEvents.Writer.TryComplete();
        await _serverEventsWorker.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _disposing.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>A request waiting for answers: a number of them, or one from each node in <c>missing</c>.</summary>
    private protected sealed class PendingRequest(string id, ClusterMessageType type, int expected, HashSet<string>? missing)
    {
        private readonly Lock _lock = new();
        private readonly List<(JsonElement Value, IReadOnlyList<ReadOnlyMemory<byte>> Attachments)> _results = [];

        public string Id { get; } = id;

        public ClusterMessageType Type { get; } = type;

        public int Expected { get; } = expected;

        public int Received { get; private set; }

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<(JsonElement Value, IReadOnlyList<ReadOnlyMemory<byte>> Attachments)> TakeResults()
        {
            lock (_lock)
            {
                return [.. _results];
            }
        }

        public void Add(string uid, JsonElement value, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
        {
            lock (_lock)
            {
                Received++;
                _results.Add((value, attachments));
                missing?.Remove(uid);
                if (missing is null ? Received >= Expected : missing.Count == 0)
                {
                    Done.TrySetResult();
                }
            }
        }

        public void Forget(string uid)
        {
            lock (_lock)
            {
                if (missing is not null && missing.Remove(uid) && missing.Count == 0)
                {
                    Done.TrySetResult();
                }
            }
        }

        /// <summary>Nobody will answer (the publish failed, or the adapter closes): return what came.</summary>
        public void Abandon() => Done.TrySetResult();
    }

    private sealed record AckRequest(Action<int> OnClientCount, Action<EventArgument[]?> OnAck);
}

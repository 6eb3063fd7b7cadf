using System.Text.Json;
using Parley.Adapters;
using StackExchange.Redis;
using Parley.Serialization;

namespace Parley.Redis;

/// <summary>
/// The sharded Redis adapter, wire-compatible with <c>@socket.io/redis-adapter</c> 8.x <c>createShardedAdapter</c>
/// (<c>lib/sharded-adapter.ts</c> over socket.io-adapter <c>ClusterAdapter</c>, <c>cluster-adapter.ts</c>;
/// docs/wire-formats.md §5.2–5.3). SSUBSCRIBE <c>p#nsp#</c> and <c>p#nsp#uid#</c>, plus <c>p#nsp#room#</c> per local room in
/// the dynamic modes; SPUBLISH ClusterMessages <c>{type, data, uid, nsp}</c> (JSON, or msgpack when a message that
/// may carry binary does); server count by <c>PUBSUB SHARDNUMSUB p#nsp#</c>.
/// </summary>
internal sealed class ShardedRedisAdapter : RedisAdapterBase
{
    // cluster-adapter.ts MessageType
    private const int InitialHeartbeat = 1;
    private const int Heartbeat = 2;
    private const int Broadcast = 3;
    private const int SocketsJoin = 4;
    private const int SocketsLeave = 5;
    private const int DisconnectSockets = 6;
    private const int FetchSockets = 7;
    private const int FetchSocketsResponse = 8;
    private const int ServerSideEmit = 9;
    private const int ServerSideEmitResponse = 10;
    private const int BroadcastClientCount = 11;
    private const int BroadcastAck = 12;
    private const int AdapterClose = 13;

    private readonly string _channel;
    private readonly string _responseChannel;
    private readonly RedisMessageHandler _onMessage;
    // Room channels this node is subscribed to; changed only under _roomSync (see Reconcile).
    private readonly HashSet<string> _roomChannels = new(StringComparer.Ordinal);
    private readonly Lock _roomSync = new();

    public ShardedRedisAdapter(Namespace @namespace, RedisConnections connections, RedisAdapterOptions options, TimeProvider time)
        : base(@namespace, connections, options, time, RedisWire.HexId())
    {
        _channel = options.ChannelPrefix + "#" + @namespace.Name + "#";
        _responseChannel = _channel + Uid + "#";
        _onMessage = Queued(OnRawMessage);
    }

    private protected override async Task SubscribeAsync()
    {
        RedisLog.AdapterStarted(Logger, Uid, Namespace.Name, "sharded " + Options.SubscriptionMode);
        await Connections.SubscribeAsync(RedisChannel.Sharded(_channel), _onMessage).ConfigureAwait(false);
        await Connections.SubscribeAsync(RedisChannel.Sharded(_responseChannel), _onMessage).ConfigureAwait(false);
    }

    private protected override Task UnsubscribeAsync()
    {
        var channels = new List<Task> { Connections.UnsubscribeAsync(RedisChannel.Sharded(_channel)), Connections.UnsubscribeAsync(RedisChannel.Sharded(_responseChannel)) };
        lock (_roomSync)
        {
            foreach (var channel in _roomChannels)
            {
                channels.Add(Connections.UnsubscribeAsync(RedisChannel.Sharded(channel)));
            }
            _roomChannels.Clear();
        }
        return Task.WhenAll(channels);
    }

    private protected override Task<long> CountSubscribersAsync() => Connections.CountSubscribersAsync(_channel, sharded: true);

    // ---- dynamic room channels (sharded-adapter.ts constructor, create-room / delete-room) ----

    /// <summary><c>shouldUseASeparateNamespace</c>: public rooms in dynamic mode (a socket's own room is private), all in dynamic-private.</summary>
    private bool HasOwnChannel(string room) => Options.SubscriptionMode switch
    {
        ShardedSubscriptionMode.Dynamic => !Namespace.Sockets.ContainsKey(room),
        ShardedSubscriptionMode.DynamicPrivate => true,
        _ => false,
    };

    protected override void OnRoomCreated(string room) => Reconcile(room);

    protected override void OnRoomDeleted(string room) => Reconcile(room);

    /// <summary>
    /// Makes the room's channel subscription match whether the room exists now. The create/delete hooks run after
    /// the adapter's lock is released, so two of them for one room can arrive in either order (a join racing a
    /// leave); acting on the hook's own verdict could leave a node unsubscribed from a room it has, deaf to remote
    /// broadcasts to it. Re-reading the room under one lock, and queueing the (un)subscribe inside it (queueing
    /// never blocks), makes the last hook to run decide, and Redis sees the commands in that order.
    /// </summary>
    private void Reconcile(string room)
    {
        var channel = _channel + room + "#";
        lock (_roomSync)
        {
            var wanted = HasRoom(room) && HasOwnChannel(room);
            if (wanted == _roomChannels.Contains(channel))
            {
                return;
            }
            if (wanted)
            {
                _roomChannels.Add(channel);
                _ = Connections.SubscribeAsync(RedisChannel.Sharded(channel), _onMessage);
            }
            else
            {
                _roomChannels.Remove(channel);
                _ = Connections.UnsubscribeAsync(RedisChannel.Sharded(channel));
            }
        }
    }

    /// <summary>
    /// <c>computeChannel</c>: a BROADCAST without ack to exactly one room uses the room's channel (in dynamic mode
    /// only when the room does not look like a socket id, 20 chars); everything else the namespace channel. A
    /// broadcast with ack never does, since its server count covers every node.
    /// </summary>
    private string BroadcastChannel(BroadcastOptions options)
    {
        if (options.Rooms.Count == 1 && Options.SubscriptionMode != ShardedSubscriptionMode.Static)
        {
            foreach (var room in options.Rooms)
            {
                if (Options.SubscriptionMode == ShardedSubscriptionMode.DynamicPrivate || room.Length != 20)
                {
                    return _channel + room + "#";
                }
            }
        }
        return _channel;
    }

    // ---- publishing ----

    /// <summary>
    /// A ClusterMessage <c>{"type":T,"data":{...},"uid":"…","nsp":"…"}</c> (uid and nsp come last because
    /// <c>publishAndReturnOffset</c> adds them). msgpack only when the type may carry binary and does (<c>encode</c>).
    /// </summary>
    private ReadOnlyMemory<byte> Encode<TState>(int type, TState state, Action<Utf8JsonWriter, TState> writeData, IReadOnlyList<ReadOnlyMemory<byte>> attachments) =>
        RedisWire.Build((type, state, writeData, Uid, Namespace.Name), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteNumber("type", s.type);
            w.WritePropertyName("data");
            s.writeData(w, s.state);
            w.WriteString("uid", s.Uid);
            w.WriteString("nsp", s.Name);
            w.WriteEndObject();
        }, type is Broadcast or BroadcastAck or FetchSocketsResponse or ServerSideEmit or ServerSideEmitResponse ? attachments : [], msgpack: false);

    /// <summary>SPUBLISH without waiting; a request passes <paramref name="onFailed"/> to stop waiting when the publish fails.</summary>
    private void Publish(string channel, ReadOnlyMemory<byte> message, Action? onFailed = null) => Connections.Publish(RedisChannel.Sharded(channel), message, onFailed);

    /// <summary>Responses go to the requester's own channel <c>p#nsp#requesterUid#</c> (<c>doPublishResponse</c>).</summary>
    private void PublishResponse(string requesterUid, ReadOnlyMemory<byte> message) => Publish(_channel + requesterUid + "#", message);

    /// <summary>BROADCAST <c>data:{packet:{type:2,data}, opts}</c> (no nsp in the packet, docs/wire-formats.md §5.2). Local sockets first.</summary>
    public override Task BroadcastAsync(BroadcastPacket packet, BroadcastOptions options)
    {
        BroadcastLocal(packet, options);
        if (!options.Flags.Local)
        {
            Publish(BroadcastChannel(options), Encode(Broadcast, (packet, options), static (w, s) =>
            {
                w.WriteStartObject();
                WritePacket(w, s.packet);
                w.WritePropertyName("opts");
                RedisWire.WriteOptions(w, s.options, withFlags: true);
                w.WriteEndObject();
            }, packet.Payload.Attachments));
        }
        return Task.CompletedTask;
    }

    private static void WritePacket(Utf8JsonWriter w, BroadcastPacket packet)
    {
        w.WritePropertyName("packet");
        w.WriteStartObject();
        w.WriteNumber("type", 2);
        w.WritePropertyName("data");
        w.WriteRawValue(packet.Payload.Json.Span, skipInputValidation: true);
        w.WriteEndObject();
    }

    /// <summary>BROADCAST with <c>data:{packet, requestId, opts}</c>; answers come as BROADCAST_CLIENT_COUNT (11) and BROADCAST_ACK (12).</summary>
    public override Task BroadcastWithAckAsync(BroadcastPacket packet, BroadcastOptions options, Action<int> onClientCount, Action<EventArgument[]?> onAck)
    {
        onClientCount(BroadcastWithAckLocal(packet, options, onAck));
        if (!options.Flags.Local)
        {
            var requestId = RedisWire.HexId();
            AddAckRequest(requestId, options, onClientCount, onAck);
            Publish(_channel, Encode(Broadcast, (packet, options, requestId), static (w, s) =>
            {
                w.WriteStartObject();
                WritePacket(w, s.packet);
                w.WriteString("requestId", s.requestId);
                w.WritePropertyName("opts");
                RedisWire.WriteOptions(w, s.options, withFlags: true);
                w.WriteEndObject();
            }, packet.Payload.Attachments));
        }
        return Task.CompletedTask;
    }

    /// <summary>SOCKETS_JOIN <c>data:{opts, rooms}</c>.</summary>
    public override Task AddSocketsAsync(BroadcastOptions options, IReadOnlyList<string> rooms)
    {
        if (!options.Flags.Local)
        {
            Publish(_channel, Encode(SocketsJoin, (options, rooms), WriteRoomsData, []));
        }
        AddSocketsLocal(options, rooms);
        return Task.CompletedTask;
    }

    /// <summary>SOCKETS_LEAVE <c>data:{opts, rooms}</c>.</summary>
    public override Task DelSocketsAsync(BroadcastOptions options, IReadOnlyList<string> rooms)
    {
        if (!options.Flags.Local)
        {
            Publish(_channel, Encode(SocketsLeave, (options, rooms), WriteRoomsData, []));
        }
        DelSocketsLocal(options, rooms);
        return Task.CompletedTask;
    }

    private static void WriteRoomsData(Utf8JsonWriter w, (BroadcastOptions Options, IReadOnlyList<string> Rooms) s)
    {
        w.WriteStartObject();
        w.WritePropertyName("opts");
        RedisWire.WriteOptions(w, s.Options, withFlags: true);
        w.WriteStartArray("rooms");
        foreach (var room in s.Rooms)
        {
            w.WriteStringValue(room);
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>DISCONNECT_SOCKETS <c>data:{opts, close}</c>.</summary>
    public override Task DisconnectSocketsAsync(BroadcastOptions options, bool close)
    {
        if (!options.Flags.Local)
        {
            Publish(_channel, Encode(DisconnectSockets, (options, close), static (w, s) =>
            {
                w.WriteStartObject();
                w.WritePropertyName("opts");
                RedisWire.WriteOptions(w, s.options, withFlags: true);
                w.WriteBoolean("close", s.close);
                w.WriteEndObject();
            }, []));
        }
        DisconnectSocketsLocal(options, close);
        return Task.CompletedTask;
    }

    /// <summary>FETCH_SOCKETS <c>data:{opts, requestId}</c>; waits for serverCount−1 FETCH_SOCKETS_RESPONSE.</summary>
    public override async Task<IReadOnlyList<RemoteSocket>> FetchSocketsAsync(BroadcastOptions options)
    {
        var local = FetchSocketsLocal(options);
        if (options.Flags.Local)
        {
            return local;
        }
        var others = await ServerCountAsync().ConfigureAwait(false) - 1;
        if (others <= 0)
        {
            return local;
        }
        var requestId = RedisWire.HexId();
        var request = new PendingRequest(FetchSockets, others);
        Requests[requestId] = request;
        Publish(_channel, Encode(FetchSockets, (options, requestId), static (w, s) =>
        {
            w.WriteStartObject();
            w.WritePropertyName("opts");
            RedisWire.WriteOptions(w, s.options, withFlags: true);
            w.WriteString("requestId", s.requestId);
            w.WriteEndObject();
        }, []), request.Abandon);
        var answers = await WaitAsync(requestId, request, options.Flags.Timeout ?? Options.RequestsTimeout).ConfigureAwait(false);
        return ToRemoteSockets(local, answers);
    }

    /// <summary>SERVER_SIDE_EMIT <c>data:{packet:[event,...args]}</c>.</summary>
    public override Task ServerSideEmitAsync(SocketPayload payload)
    {
        Publish(_channel, EncodeServerSideEmit(payload, null));
        return Task.CompletedTask;
    }

    /// <summary>SERVER_SIDE_EMIT <c>data:{requestId, packet}</c>; one SERVER_SIDE_EMIT_RESPONSE per other node.</summary>
    public override async Task<IReadOnlyList<JsonElement>> ServerSideEmitWithAckAsync(SocketPayload payload, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var others = await ServerCountAsync().ConfigureAwait(false) - 1;
        if (others <= 0)
        {
            return [];
        }
        var requestId = RedisWire.HexId();
        var request = new PendingRequest(ServerSideEmit, others);
        Requests[requestId] = request;
        Publish(_channel, EncodeServerSideEmit(payload, requestId), request.Abandon);
        var answers = await WaitAsync(requestId, request, timeout, cancellationToken).ConfigureAwait(false);
        return answers.ConvertAll(static a => a.Value);
    }

    private ReadOnlyMemory<byte> EncodeServerSideEmit(SocketPayload payload, string? requestId) =>
        Encode(ServerSideEmit, (payload, requestId), static (w, s) =>
        {
            w.WriteStartObject();
            if (s.requestId is not null)
            {
                w.WriteString("requestId", s.requestId);
            }
            w.WritePropertyName("packet");
            w.WriteRawValue(s.payload.Json.Span, skipInputValidation: true);
            w.WriteEndObject();
        }, payload.Attachments);

    // ---- receiving ----

    /// <summary><c>onRawMessage</c>: JSON or msgpack by the first byte; our own channel carries responses.</summary>
    private void OnRawMessage(in RedisMessage message)
    {
        JsonElement root;
        IReadOnlyList<ReadOnlyMemory<byte>> attachments;
        try
        {
            (root, attachments) = RedisWire.Decode(message.Payload);
        }
        catch (Exception e) when (e is JsonException or MessagePack.MessagePackSerializationException)
        {
            RedisLog.MalformedMessage(Logger, message.Channel, e);
            return;
        }
        if (root.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        if (message.Channel == _responseChannel)
        {
            OnResponse(root, attachments);
        }
        else
        {
            OnMessage(root, attachments);
        }
    }

    /// <summary>cluster-adapter.ts <c>onMessage</c>: skips our own uid and other namespaces.</summary>
    private void OnMessage(JsonElement message, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        var uid = RedisWire.GetString(message, "uid");
        if (uid is null || uid == Uid || RedisWire.GetString(message, "nsp") != Namespace.Name)
        {
            return;
        }
        var type = RedisWire.GetInt(message, "type");
        if (!RedisWire.TryGet(message, "data", out var data))
        {
            return; // heartbeats and ADAPTER_CLOSE carry no data; this adapter keeps no node list (plain ClusterAdapter)
        }
        var opts = RedisWire.TryGet(data, "opts", out var o) ? RedisWire.ReadOptions(o) : new BroadcastOptions();
        switch (type)
        {
            case Broadcast:
            {
                if (!RedisWire.TryGet(data, "packet", out var packet) || !RedisWire.TryGet(packet, "data", out var packetData))
                {
                    return;
                }
                var broadcast = new BroadcastPacket(Namespace.Name, RedisWire.ToPayload(packetData, attachments));
                var requestId = RedisWire.GetString(data, "requestId");
                if (requestId is null)
                {
                    BroadcastLocal(broadcast, opts);
                    return;
                }
                var count = BroadcastWithAckLocal(broadcast, opts, args =>
                {
                    if (args is null)
                    {
                        return;
                    }
                    var (value, valueAttachments) = FirstAck(args);
                    PublishResponse(uid, Encode(BroadcastAck, (requestId, value), WriteRequestIdAndPacket, valueAttachments));
                });
                PublishResponse(uid, Encode(BroadcastClientCount, (requestId, count), static (w, s) =>
                {
                    w.WriteStartObject();
                    w.WriteString("requestId", s.requestId);
                    w.WriteNumber("clientCount", s.count);
                    w.WriteEndObject();
                }, []));
                return;
            }
            case SocketsJoin:
                AddSocketsLocal(opts, [.. RedisWire.ReadSet(data, "rooms")]);
                return;
            case SocketsLeave:
                DelSocketsLocal(opts, [.. RedisWire.ReadSet(data, "rooms")]);
                return;
            case DisconnectSockets:
                DisconnectSocketsLocal(opts, RedisWire.TryGet(data, "close", out var close) && close.ValueKind == JsonValueKind.True);
                return;
            case FetchSockets:
            {
                var requestId = RedisWire.GetString(data, "requestId");
                if (requestId is null)
                {
                    return;
                }
                var sockets = FetchSocketsLocal(opts);
                PublishResponse(uid, Encode(FetchSocketsResponse, (requestId, sockets), static (w, s) =>
                {
                    w.WriteStartObject();
                    w.WriteString("requestId", s.requestId);
                    w.WriteStartArray("sockets");
                    foreach (var socket in s.sockets)
                    {
                        RedisWire.WriteSocket(w, socket);
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }, []));
                return;
            }
            case ServerSideEmit:
            {
                if (!RedisWire.TryGet(data, "packet", out var packet))
                {
                    return;
                }
                var requestId = RedisWire.GetString(data, "requestId");
                DeliverServerSideEmit(packet, attachments, requestId is null ? null : (value, valueAttachments) =>
                    PublishResponse(uid, Encode(ServerSideEmitResponse, (requestId, value), WriteRequestIdAndPacket, valueAttachments)));
                return;
            }
            case FetchSocketsResponse:
            case ServerSideEmitResponse:
            case BroadcastClientCount:
            case BroadcastAck:
                // "extending classes may not make a distinction between a ClusterMessage and a ClusterResponse"
                OnResponse(message, attachments);
                return;
            case InitialHeartbeat:
            case Heartbeat:
            case AdapterClose:
            default:
                return;
        }
    }

    private static void WriteRequestIdAndPacket(Utf8JsonWriter w, (string RequestId, JsonElement Value) s)
    {
        w.WriteStartObject();
        w.WriteString("requestId", s.RequestId);
        w.WritePropertyName("packet");
        s.Value.WriteTo(w);
        w.WriteEndObject();
    }

    /// <summary>cluster-adapter.ts <c>onResponse</c>.</summary>
    private void OnResponse(JsonElement response, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        if (!RedisWire.TryGet(response, "data", out var data) || RedisWire.GetString(data, "requestId") is not { } requestId)
        {
            return;
        }
        switch (RedisWire.GetInt(response, "type"))
        {
            case BroadcastClientCount:
                if (AckRequests.TryGetValue(requestId, out var counted))
                {
                    counted.OnClientCount(Math.Max(0, RedisWire.GetInt(data, "clientCount")));
                }
                return;
            case BroadcastAck:
                if (AckRequests.TryGetValue(requestId, out var acked))
                {
                    acked.OnAck(AckArguments(data.TryGetProperty("packet", out var p) ? p : default, attachments));
                }
                return;
            case FetchSocketsResponse:
                if (Requests.TryGetValue(requestId, out var fetch))
                {
                    fetch.Add(data.TryGetProperty("sockets", out var sockets) ? sockets : default, attachments);
                }
                return;
            case ServerSideEmitResponse:
                if (Requests.TryGetValue(requestId, out var emit))
                {
                    emit.Add(data.TryGetProperty("packet", out var packet) ? packet : JsonDocument.Parse("null").RootElement, attachments);
                }
                return;
        }
    }
}

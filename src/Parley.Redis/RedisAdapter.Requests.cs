using System.Text.Json;
using Parley.Adapters;
using StackExchange.Redis;
using Parley.Serialization;

namespace Parley.Redis;

/// <summary>
/// Requests between classic nodes (index.ts <c>RequestType</c>, <c>onrequest</c>, <c>onresponse</c>; docs/wire-formats.md §5.1
/// table). JSON text, except BROADCAST (7) requests and BROADCAST_ACK (9) responses, which are msgpack; both are
/// accepted everywhere (sniffed by the <c>{</c> byte). Key orders are upstream's.
/// </summary>
internal sealed partial class RedisAdapter
{
    private const int Sockets = 0;
    private const int AllRooms = 1;
    private const int RemoteJoin = 2;
    private const int RemoteLeave = 3;
    private const int RemoteDisconnect = 4;
    private const int RemoteFetch = 5;
    private const int ServerSideEmit = 6;
    private const int Broadcast = 7;
    private const int BroadcastClientCount = 8;
    private const int BroadcastAck = 9;

    // ---- sending ----

    /// <summary>REMOTE_FETCH <c>{"uid","requestId","type":5,"opts":{"rooms","except"}}</c>; waits for serverCount−1 answers.</summary>
    public override async Task<IReadOnlyList<RemoteSocket>> FetchSocketsAsync(BroadcastOptions options)
    {
        var local = FetchSocketsLocal(options);
        if (options.Flags.Local)
        {
            return local;
        }
        var nodes = await ServerCountAsync().ConfigureAwait(false);
        if (nodes <= 1)
        {
            return local;
        }
        var requestId = RedisWire.Uid2();
        var request = new PendingRequest(RemoteFetch, nodes - 1);
        Requests[requestId] = request;
        PublishRequest(request, RedisWire.Build((Uid, requestId, options), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteString("uid", s.Uid);
            w.WriteString("requestId", s.requestId);
            w.WriteNumber("type", RemoteFetch);
            w.WritePropertyName("opts");
            RedisWire.WriteOptions(w, s.options, withFlags: false);
            w.WriteEndObject();
        }, [], msgpack: false));
        var answers = await WaitAsync(requestId, request, options.Flags.Timeout ?? Options.RequestsTimeout).ConfigureAwait(false);
        return ToRemoteSockets(local, answers);
    }

    /// <summary>REMOTE_JOIN <c>{"uid","type":2,"opts":{"rooms","except"},"rooms":[...]}</c>; no answer expected.</summary>
    public override Task AddSocketsAsync(BroadcastOptions options, IReadOnlyList<string> rooms)
    {
        AddSocketsLocal(options, rooms);
        if (!options.Flags.Local)
        {
            PublishRoomsRequest(RemoteJoin, options, rooms);
        }
        return Task.CompletedTask;
    }

    /// <summary>REMOTE_LEAVE, same shape as REMOTE_JOIN with type 3.</summary>
    public override Task DelSocketsAsync(BroadcastOptions options, IReadOnlyList<string> rooms)
    {
        DelSocketsLocal(options, rooms);
        if (!options.Flags.Local)
        {
            PublishRoomsRequest(RemoteLeave, options, rooms);
        }
        return Task.CompletedTask;
    }

    private void PublishRoomsRequest(int type, BroadcastOptions options, IReadOnlyList<string> rooms) =>
        PublishRequest(RedisWire.Build((Uid, type, options, rooms), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteString("uid", s.Uid);
            w.WriteNumber("type", s.type);
            w.WritePropertyName("opts");
            RedisWire.WriteOptions(w, s.options, withFlags: false);
            w.WriteStartArray("rooms");
            foreach (var room in s.rooms)
            {
                w.WriteStringValue(room);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }, [], msgpack: false));

    /// <summary>REMOTE_DISCONNECT <c>{"uid","type":4,"opts":{"rooms","except"},"close":bool}</c>.</summary>
    public override Task DisconnectSocketsAsync(BroadcastOptions options, bool close)
    {
        if (!options.Flags.Local)
        {
            PublishRequest(RedisWire.Build((Uid, options, close), static (w, s) =>
            {
                w.WriteStartObject();
                w.WriteString("uid", s.Uid);
                w.WriteNumber("type", RemoteDisconnect);
                w.WritePropertyName("opts");
                RedisWire.WriteOptions(w, s.options, withFlags: false);
                w.WriteBoolean("close", s.close);
                w.WriteEndObject();
            }, [], msgpack: false));
        }
        DisconnectSocketsLocal(options, close);
        return Task.CompletedTask;
    }

    /// <summary>SERVER_SIDE_EMIT <c>{"uid","type":6,"data":[event,...args]}</c> (msgpack when an argument is binary).</summary>
    public override Task ServerSideEmitAsync(SocketPayload payload)
    {
        PublishRequest(EncodeServerSideEmit(payload, null));
        return Task.CompletedTask;
    }

    /// <summary>As <see cref="ServerSideEmitAsync"/> with a requestId; one answer per other node, each on <c>k-response#nsp#</c>.</summary>
    public override async Task<IReadOnlyList<JsonElement>> ServerSideEmitWithAckAsync(SocketPayload payload, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var others = await ServerCountAsync().ConfigureAwait(false) - 1;
        if (others <= 0)
        {
            return [];
        }
        var requestId = RedisWire.Uid2();
        var request = new PendingRequest(ServerSideEmit, others);
        Requests[requestId] = request;
        PublishRequest(request, EncodeServerSideEmit(payload, requestId));
        var answers = await WaitAsync(requestId, request, timeout, cancellationToken).ConfigureAwait(false);
        return answers.ConvertAll(static a => a.Value);
    }

    private ReadOnlyMemory<byte> EncodeServerSideEmit(SocketPayload payload, string? requestId) =>
        RedisWire.Build((Uid, requestId, payload), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteString("uid", s.Uid);
            if (s.requestId is not null)
            {
                w.WriteString("requestId", s.requestId);
            }
            w.WriteNumber("type", ServerSideEmit);
            w.WritePropertyName("data");
            w.WriteRawValue(s.payload.Json.Span, skipInputValidation: true);
            w.WriteEndObject();
        }, payload.Attachments, msgpack: false);

    /// <summary>
    /// BROADCAST msgpack <c>{"uid","requestId","type":7,"packet":{"type":2,"data","nsp"},"opts":{"rooms","except","flags"}}</c>
    /// on the request channel; each node answers BROADCAST_CLIENT_COUNT, then one BROADCAST_ACK per client.
    /// </summary>
    public override Task BroadcastWithAckAsync(BroadcastPacket packet, BroadcastOptions options, Action<int> onClientCount, Action<EventArgument[]?> onAck)
    {
        onClientCount(BroadcastWithAckLocal(packet, options, onAck));
        if (!options.Flags.Local)
        {
            var requestId = RedisWire.Uid2();
            AddAckRequest(requestId, options, onClientCount, onAck);
            PublishRequest(RedisWire.Build((Uid, requestId, packet, options), static (w, s) =>
            {
                w.WriteStartObject();
                w.WriteString("uid", s.Uid);
                w.WriteString("requestId", s.requestId);
                w.WriteNumber("type", Broadcast);
                w.WritePropertyName("packet");
                w.WriteStartObject();
                w.WriteNumber("type", 2);
                w.WritePropertyName("data");
                w.WriteRawValue(s.packet.Payload.Json.Span, skipInputValidation: true);
                w.WriteString("nsp", s.packet.Namespace);
                w.WriteEndObject();
                w.WritePropertyName("opts");
                RedisWire.WriteOptions(w, s.options, withFlags: true);
                w.WriteEndObject();
            }, packet.Payload.Attachments, msgpack: true));
        }
        return Task.CompletedTask;
    }

    /// <summary>Every room of every node (ALL_ROOMS <c>{"uid","requestId","type":1}</c>; index.ts <c>allRooms</c>).</summary>
    public async Task<IReadOnlySet<string>> AllRoomsAsync()
    {
        var rooms = new HashSet<string>(LocalRooms, StringComparer.Ordinal);
        var nodes = await ServerCountAsync().ConfigureAwait(false);
        if (nodes <= 1)
        {
            return rooms;
        }
        var requestId = RedisWire.Uid2();
        var request = new PendingRequest(AllRooms, nodes - 1);
        Requests[requestId] = request;
        PublishRequest(request, RedisWire.Build((Uid, requestId), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteString("uid", s.Uid);
            w.WriteString("requestId", s.requestId);
            w.WriteNumber("type", AllRooms);
            w.WriteEndObject();
        }, [], msgpack: false));
        foreach (var (answer, _) in await WaitAsync(requestId, request, Options.RequestsTimeout).ConfigureAwait(false))
        {
            if (answer.ValueKind == JsonValueKind.Array)
            {
                foreach (var room in answer.EnumerateArray())
                {
                    rooms.Add(room.ValueKind == JsonValueKind.String ? room.GetString()! : room.GetRawText());
                }
            }
        }
        return rooms;
    }

    private void PublishRequest(ReadOnlyMemory<byte> message) => Connections.Publish(Routed(_requestChannel), message);

    /// <summary>A request that waits for answers: if it cannot be published, nobody will answer, so it stops waiting.</summary>
    private void PublishRequest(PendingRequest request, ReadOnlyMemory<byte> message) => Connections.Publish(Routed(_requestChannel), message, request.Abandon);

    /// <summary>index.ts <c>publishResponse</c>: the shared response channel, or the requester's with <c>PublishOnSpecificResponseChannel</c>.</summary>
    private void PublishResponse(string? requesterUid, ReadOnlyMemory<byte> message) =>
        Connections.Publish(Routed(Options.PublishOnSpecificResponseChannel && requesterUid is not null ? _responseChannel + requesterUid + "#" : _responseChannel), message);

    // ---- receiving ----

    private void OnRequestMessage(in RedisMessage message)
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
        if (message.Channel.StartsWith(_responseChannel, StringComparison.Ordinal))
        {
            OnResponse(root, attachments);
        }
        else if (message.Channel == _requestChannel)
        {
            OnRequest(root, attachments);
        }
    }

    private void OnRequest(JsonElement request, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        var requestId = RedisWire.GetString(request, "requestId");
        var uid = RedisWire.GetString(request, "uid");
        switch (RedisWire.GetInt(request, "type"))
        {
            case Sockets:
            {
                if (requestId is null || Requests.ContainsKey(requestId))
                {
                    return; // our own request
                }
                var sids = FetchSocketsLocal(new BroadcastOptions(RedisWire.ReadSet(request, "rooms")));
                PublishResponse(uid, RedisWire.Build((requestId, sids), static (w, s) =>
                {
                    w.WriteStartObject();
                    w.WriteString("requestId", s.requestId);
                    w.WriteStartArray("sockets");
                    foreach (var socket in s.sids)
                    {
                        w.WriteStringValue(socket.Id);
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }, [], msgpack: false));
                return;
            }
            case AllRooms:
            {
                if (requestId is null || Requests.ContainsKey(requestId))
                {
                    return;
                }
                PublishResponse(uid, RedisWire.Build((requestId, LocalRooms), static (w, s) =>
                {
                    w.WriteStartObject();
                    w.WriteString("requestId", s.requestId);
                    w.WriteStartArray("rooms");
                    foreach (var room in s.LocalRooms)
                    {
                        w.WriteStringValue(room);
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }, [], msgpack: false));
                return;
            }
            case RemoteJoin:
            case RemoteLeave:
            case RemoteDisconnect:
                OnRemoteRoomsRequest(request, uid, requestId);
                return;
            case RemoteFetch:
            {
                if (requestId is null || Requests.ContainsKey(requestId) || !RedisWire.TryGet(request, "opts", out var opts))
                {
                    return;
                }
                var sockets = FetchSocketsLocal(RedisWire.ReadOptions(opts));
                PublishResponse(uid, RedisWire.Build((requestId, sockets), static (w, s) =>
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
                }, [], msgpack: false));
                return;
            }
            case ServerSideEmit:
            {
                if (uid == Uid || !RedisWire.TryGet(request, "data", out var data))
                {
                    return;
                }
                // The answer goes to the shared response channel whatever PublishOnSpecificResponseChannel says (index.ts L415-422).
                DeliverServerSideEmit(data, attachments, requestId is null ? null : (value, valueAttachments) =>
                    Connections.Publish(Routed(_responseChannel), RedisWire.Build((requestId, value), static (w, s) =>
                    {
                        w.WriteStartObject();
                        w.WriteNumber("type", ServerSideEmit);
                        w.WriteString("requestId", s.requestId);
                        w.WritePropertyName("data");
                        s.value.WriteTo(w);
                        w.WriteEndObject();
                    }, valueAttachments, msgpack: false)));
                return;
            }
            case Broadcast:
            {
                if (requestId is null || AckRequests.ContainsKey(requestId) ||
                    !RedisWire.TryGet(request, "packet", out var packet) || !RedisWire.TryGet(packet, "data", out var data) ||
                    !RedisWire.TryGet(request, "opts", out var opts))
                {
                    return; // our own broadcast (or malformed)
                }
                var options = RedisWire.ReadOptions(opts);
                var broadcast = new BroadcastPacket(Namespace.Name, RedisWire.ToPayload(data, attachments));
                var count = BroadcastWithAckLocal(broadcast, options, args =>
                {
                    if (args is null)
                    {
                        return; // the client left before answering
                    }
                    var (value, valueAttachments) = FirstAck(args);
                    // BROADCAST_ACK is msgpack (parser.encode), so a binary answer survives.
                    PublishResponse(uid, RedisWire.Build((requestId, value), static (w, s) =>
                    {
                        w.WriteStartObject();
                        w.WriteNumber("type", BroadcastAck);
                        w.WriteString("requestId", s.requestId);
                        w.WritePropertyName("packet");
                        s.value.WriteTo(w);
                        w.WriteEndObject();
                    }, valueAttachments, msgpack: true));
                });
                PublishResponse(uid, RedisWire.Build((requestId, count), static (w, s) =>
                {
                    w.WriteStartObject();
                    w.WriteNumber("type", BroadcastClientCount);
                    w.WriteString("requestId", s.requestId);
                    w.WriteNumber("clientCount", s.count);
                    w.WriteEndObject();
                }, [], msgpack: false));
                return;
            }
        }
    }

    /// <summary>
    /// REMOTE_JOIN / LEAVE / DISCONNECT. With <c>opts</c> (8.x) they apply to the matching local sockets and get
    /// no answer; our own are skipped since we applied them locally already. The legacy form targets one
    /// <c>sid</c> and is answered <c>{"requestId"}</c> by the node that has it.
    /// </summary>
    private void OnRemoteRoomsRequest(JsonElement request, string? uid, string? requestId)
    {
        var type = RedisWire.GetInt(request, "type");
        if (RedisWire.TryGet(request, "opts", out var opts))
        {
            if (uid == Uid)
            {
                return;
            }
            var options = RedisWire.ReadOptions(opts);
            switch (type)
            {
                case RemoteJoin:
                    AddSocketsLocal(options, [.. RedisWire.ReadSet(request, "rooms")]);
                    break;
                case RemoteLeave:
                    DelSocketsLocal(options, [.. RedisWire.ReadSet(request, "rooms")]);
                    break;
                default:
                    DisconnectSocketsLocal(options, RedisWire.TryGet(request, "close", out var close) && close.ValueKind == JsonValueKind.True);
                    break;
            }
            return;
        }
        var sid = RedisWire.GetString(request, "sid");
        if (sid is null || !Namespace.Sockets.TryGetValue(sid, out var socket))
        {
            return;
        }
        switch (type)
        {
            case RemoteJoin when RedisWire.GetString(request, "room") is { } room:
                socket.Join(room);
                break;
            case RemoteLeave when RedisWire.GetString(request, "room") is { } room:
                socket.Leave(room);
                break;
            case RemoteDisconnect:
                socket.Disconnect(RedisWire.TryGet(request, "close", out var close) && close.ValueKind == JsonValueKind.True);
                break;
        }
        if (requestId is not null)
        {
            PublishResponse(uid, RedisWire.Build(requestId, static (w, id) =>
            {
                w.WriteStartObject();
                w.WriteString("requestId", id);
                w.WriteEndObject();
            }, [], msgpack: false));
        }
    }

    /// <summary>index.ts <c>onresponse</c>: ack requests first, then pending requests by type.</summary>
    private void OnResponse(JsonElement response, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        var requestId = RedisWire.GetString(response, "requestId");
        if (requestId is null)
        {
            return;
        }
        if (AckRequests.TryGetValue(requestId, out var ack))
        {
            switch (RedisWire.GetInt(response, "type"))
            {
                case BroadcastClientCount:
                    ack.OnClientCount(RedisWire.GetInt(response, "clientCount") is var n and >= 0 ? n : 0);
                    break;
                case BroadcastAck:
                    ack.OnAck(AckArguments(response.TryGetProperty("packet", out var p) ? p : default, attachments));
                    break;
            }
            return;
        }
        if (!Requests.TryGetValue(requestId, out var request))
        {
            return;
        }
        switch (request.Type)
        {
            case Sockets:
            case RemoteFetch:
                request.Add(response.TryGetProperty("sockets", out var sockets) ? sockets : default, attachments);
                break;
            case AllRooms:
                request.Add(response.TryGetProperty("rooms", out var rooms) ? rooms : default, attachments);
                break;
            case ServerSideEmit:
                request.Add(response.TryGetProperty("data", out var data) ? data : JsonDocument.Parse("null").RootElement, attachments);
                break;
            default:
                request.Add(default, attachments);
                break;
        }
    }
}

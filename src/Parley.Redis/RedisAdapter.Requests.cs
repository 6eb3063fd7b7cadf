using System.Buffers;
using System.Text.Json;
using Parley.Adapters;
using Parley.Serialization;
using StackExchange.Redis;

namespace Parley.Redis;

/// <summary>
/// Requests and responses between classic nodes (index.ts <c>RequestType</c>, <c>onrequest</c>, <c>onresponse</c>;
/// docs/wire-formats.md §5.1 table), translated to and from the <see cref="ClusterMessage"/>s the contract sends and
/// handles. JSON text, except BROADCAST (7) requests and BROADCAST_ACK (9) responses, which are msgpack; both are
/// accepted everywhere (sniffed by the <c>{</c> byte). Key orders are upstream's.
/// <list type="table">
/// <item><term>SOCKETS_JOIN / SOCKETS_LEAVE {opts, rooms}</term><description>REMOTE_JOIN 2 / REMOTE_LEAVE 3 <c>{uid, type, opts:{rooms, except}, rooms}</c></description></item>
/// <item><term>DISCONNECT_SOCKETS {opts, close}</term><description>REMOTE_DISCONNECT 4 <c>{uid, type, opts:{rooms, except}, close}</c></description></item>
/// <item><term>FETCH_SOCKETS {opts, requestId}</term><description>REMOTE_FETCH 5 <c>{uid, requestId, type, opts:{rooms, except}}</c>, answered <c>{requestId, sockets}</c></description></item>
/// <item><term>SERVER_SIDE_EMIT {requestId?, packet}</term><description>6 <c>{uid, requestId?, type, data}</c>, answered <c>{type:6, requestId, data}</c></description></item>
/// <item><term>BROADCAST {packet, requestId, opts}</term><description>7 <c>{uid, requestId, type, packet:{type, data, nsp}, opts}</c>, answered 8 <c>{type, requestId, clientCount}</c> and 9 <c>{type, requestId, packet}</c></description></item>
/// </list>
/// Classic responses carry neither uid nor the request's type: the contract matches them by request id, and their
/// shape says which answer each is.
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

    /// <summary>A request in the classic form; empty for the messages it has none for (heartbeats, which this adapter never sends).</summary>
    private ReadOnlyMemory<byte> EncodeRequest(ClusterMessage message)
    {
        using var document = JsonDocument.Parse(message.DataJson);
        var data = document.RootElement;
        var state = (Uid, Data: data, message.Namespace);
        switch (message.Type)
        {
            case ClusterMessageType.SocketsJoin:
            case ClusterMessageType.SocketsLeave:
                return RedisWire.Build((state, Type: message.Type == ClusterMessageType.SocketsJoin ? RemoteJoin : RemoteLeave), static (w, s) =>
                {
                    WriteRequestStart(w, s.state.Uid, null, s.Type);
                    WriteTargets(w, s.state.Data);
                    w.WritePropertyName("rooms");
                    s.state.Data.GetProperty("rooms").WriteTo(w);
                    w.WriteEndObject();
                }, [], msgpack: false);
            case ClusterMessageType.DisconnectSockets:
                return RedisWire.Build(state, static (w, s) =>
                {
                    WriteRequestStart(w, s.Uid, null, RemoteDisconnect);
                    WriteTargets(w, s.Data);
                    w.WriteBoolean("close", s.Data.TryGetProperty("close", out var close) && close.ValueKind == JsonValueKind.True);
                    w.WriteEndObject();
                }, [], msgpack: false);
            case ClusterMessageType.FetchSockets:
                return RedisWire.Build(state, static (w, s) =>
                {
                    WriteRequestStart(w, s.Uid, s.Data.GetProperty("requestId"), RemoteFetch);
                    WriteTargets(w, s.Data);
                    w.WriteEndObject();
                }, [], msgpack: false);
            case ClusterMessageType.ServerSideEmit:
                return RedisWire.Build(state, static (w, s) =>
                {
                    WriteRequestStart(w, s.Uid, s.Data.TryGetProperty("requestId", out var id) ? id : null, ServerSideEmit);
                    w.WritePropertyName("data");
                    s.Data.GetProperty("packet").WriteTo(w);
                    w.WriteEndObject();
                }, message.Attachments, msgpack: false);
            case ClusterMessageType.Broadcast:
                return RedisWire.Build(state, static (w, s) =>
                {
                    WriteRequestStart(w, s.Uid, s.Data.GetProperty("requestId"), Broadcast);
                    w.WriteStartObject("packet");
                    w.WriteNumber("type", 2);
                    w.WritePropertyName("data");
                    s.Data.GetProperty("packet").GetProperty("data").WriteTo(w);
                    w.WriteString("nsp", s.Namespace);
                    w.WriteEndObject();
                    w.WritePropertyName("opts");
                    s.Data.GetProperty("opts").WriteTo(w);
                    w.WriteEndObject();
                }, message.Attachments, msgpack: true);
            default:
                return ReadOnlyMemory<byte>.Empty;
        }
    }

    private static void WriteRequestStart(Utf8JsonWriter w, string uid, JsonElement? requestId, int type)
    {
        w.WriteStartObject();
        w.WriteString("uid", uid);
        if (requestId is { } id)
        {
            w.WritePropertyName("requestId");
            id.WriteTo(w);
        }
        w.WriteNumber("type", type);
    }

    /// <summary>Classic requests name their sockets by <c>opts: {rooms, except}</c>, without the flags (index.ts).</summary>
    private static void WriteTargets(Utf8JsonWriter w, JsonElement data)
    {
        var opts = data.GetProperty("opts");
        w.WriteStartObject("opts");
        w.WritePropertyName("rooms");
        opts.GetProperty("rooms").WriteTo(w);
        w.WritePropertyName("except");
        opts.GetProperty("except").WriteTo(w);
        w.WriteEndObject();
    }

    /// <summary>
    /// index.ts <c>publishResponse</c>: the shared response channel, or the requester's with
    /// <c>PublishOnSpecificResponseChannel</c>; a server-side event's answer always goes to the shared one (index.ts
    /// L415-422).
    /// </summary>
    protected override Task PublishResponseAsync(string requesterUid, ClusterMessage response)
    {
        var classic = EncodeResponse(response);
        return classic.IsEmpty ? Task.CompletedTask : PublishResponse(response.Type == ClusterMessageType.ServerSideEmitResponse ? null : requesterUid, classic);
    }

    private Task PublishResponse(string? requesterUid, ReadOnlyMemory<byte> message) =>
        PublishOn(Routed(RedisOptions.PublishOnSpecificResponseChannel && requesterUid is not null ? _responseChannel + requesterUid + "#" : _responseChannel), message);

    private static ReadOnlyMemory<byte> EncodeResponse(ClusterMessage response)
    {
        switch (response.Type)
        {
            case ClusterMessageType.FetchSocketsResponse:
                // {requestId, sockets}: the same object in both forms.
                return RedisWire.Build(response, static (w, r) => w.WriteRawValue(r.DataJson.Span, skipInputValidation: true), response.Attachments, msgpack: false);
            case ClusterMessageType.ServerSideEmitResponse:
            case ClusterMessageType.BroadcastClientCount:
            case ClusterMessageType.BroadcastAck:
                break;
            default:
                return ReadOnlyMemory<byte>.Empty;
        }
        using var document = JsonDocument.Parse(response.DataJson);
        var state = (response.Type, Data: document.RootElement);
        // BROADCAST_ACK is msgpack (parser.encode), so a binary answer survives; the others are JSON unless binary.
        return RedisWire.Build(state, static (w, s) =>
        {
            w.WriteStartObject();
            var (type, name, value) = s.Type switch
            {
                ClusterMessageType.ServerSideEmitResponse => (ServerSideEmit, "data", "packet"),
                ClusterMessageType.BroadcastClientCount => (BroadcastClientCount, "clientCount", "clientCount"),
                _ => (BroadcastAck, "packet", "packet"),
            };
            w.WriteNumber("type", type);
            w.WritePropertyName("requestId");
            s.Data.GetProperty("requestId").WriteTo(w);
            if (s.Data.TryGetProperty(value, out var v))
            {
                w.WritePropertyName(name);
                v.WriteTo(w);
            }
            w.WriteEndObject();
        }, response.Attachments, msgpack: response.Type == ClusterMessageType.BroadcastAck);
    }

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

    /// <summary>index.ts <c>onrequest</c>: our own are skipped; the rest become the contract's messages.</summary>
    private void OnRequest(JsonElement request, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        var uid = RedisWire.GetString(request, "uid") ?? "";
        if (uid == Uid)
        {
            return;
        }
        request.TryGetProperty("requestId", out var requestId);
        request.TryGetProperty("opts", out var opts);
        switch (RedisWire.GetInt(request, "type"))
        {
            case Sockets:
            case AllRooms:
                AnswerLegacy(request);
                return;
            case RemoteJoin when opts.ValueKind == JsonValueKind.Object:
            case RemoteLeave when opts.ValueKind == JsonValueKind.Object:
                request.TryGetProperty("rooms", out var rooms);
                Forward(uid, RedisWire.GetInt(request, "type") == RemoteJoin ? ClusterMessageType.SocketsJoin : ClusterMessageType.SocketsLeave, attachments,
                    ("opts", opts), ("rooms", rooms));
                return;
            case RemoteDisconnect when opts.ValueKind == JsonValueKind.Object:
                request.TryGetProperty("close", out var close);
                Forward(uid, ClusterMessageType.DisconnectSockets, attachments, ("opts", opts), ("close", close));
                return;
            case RemoteJoin:
            case RemoteLeave:
            case RemoteDisconnect:
                OnLegacyRoomsRequest(request, uid);
                return;
            case RemoteFetch:
                Forward(uid, ClusterMessageType.FetchSockets, attachments, ("opts", opts), ("requestId", requestId));
                return;
            case ServerSideEmit:
                request.TryGetProperty("data", out var data);
                Forward(uid, ClusterMessageType.ServerSideEmit, attachments, ("requestId", requestId), ("packet", data));
                return;
            case Broadcast:
                request.TryGetProperty("packet", out var packet);
                Forward(uid, ClusterMessageType.Broadcast, attachments, ("packet", packet), ("requestId", requestId), ("opts", opts));
                return;
        }
    }

    /// <summary>
    /// index.ts <c>onresponse</c>. A response has no type of its own but its shape: <c>sockets</c> answers a fetch,
    /// types 6, 8 and 9 a server-side event, a broadcast's client count and a client's ack. The answers to legacy
    /// requests (ALL_ROOMS, sid-targeted joins), which this node never sends, are ignored.
    /// </summary>
    private void OnResponse(JsonElement response, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        if (!response.TryGetProperty("requestId", out var requestId) || requestId.ValueKind != JsonValueKind.String)
        {
            return;
        }
        if (response.TryGetProperty("sockets", out var sockets))
        {
            Forward("", ClusterMessageType.FetchSocketsResponse, attachments, ("requestId", requestId), ("sockets", sockets));
            return;
        }
        switch (RedisWire.GetInt(response, "type"))
        {
            case ServerSideEmit:
                response.TryGetProperty("data", out var data);
                Forward("", ClusterMessageType.ServerSideEmitResponse, attachments, ("requestId", requestId), ("packet", data));
                return;
            case BroadcastClientCount:
                response.TryGetProperty("clientCount", out var count);
                Forward("", ClusterMessageType.BroadcastClientCount, attachments, ("requestId", requestId), ("clientCount", count));
                return;
            case BroadcastAck:
                response.TryGetProperty("packet", out var packet);
                Forward("", ClusterMessageType.BroadcastAck, attachments, ("requestId", requestId), ("packet", packet));
                return;
        }
    }

    /// <summary>
    /// Hands the contract a message whose data object has <paramref name="fields"/> (absent ones left out); binary
    /// values keep their placeholders, which number into <paramref name="attachments"/>. Classic responses have no
    /// uid: theirs is empty.
    /// </summary>
    private void Forward(string uid, ClusterMessageType type, IReadOnlyList<ReadOnlyMemory<byte>> attachments, params ReadOnlySpan<(string Name, JsonElement Value)> fields)
    {
        var json = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in fields)
            {
                if (value.ValueKind != JsonValueKind.Undefined)
                {
                    writer.WritePropertyName(name);
                    value.WriteTo(writer);
                }
            }
            writer.WriteEndObject();
        }
        OnMessage(new ClusterMessage(uid, Namespace.Name, type, json.WrittenMemory, attachments));
    }

    // ---- requests only older nodes send, answered from this node's state ----

    /// <summary>SOCKETS <c>{requestId, rooms}</c> → <c>{requestId, sockets:[ids]}</c>; ALL_ROOMS → <c>{requestId, rooms}</c>.</summary>
    private void AnswerLegacy(JsonElement request)
    {
        if (RedisWire.GetString(request, "requestId") is not { } requestId)
        {
            return;
        }
        var sockets = RedisWire.GetInt(request, "type") == Sockets;
        IEnumerable<string> items = sockets
            ? FetchSocketsLocal(new BroadcastOptions(RedisWire.ReadSet(request, "rooms"))).Select(static s => s.Id)
            : LocalRooms;
        Forget(PublishResponse(RedisWire.GetString(request, "uid"), RedisWire.Build((requestId, Name: sockets ? "sockets" : "rooms", Items: items.ToList()), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteString("requestId", s.requestId);
            w.WriteStartArray(s.Name);
            foreach (var item in s.Items)
            {
                w.WriteStringValue(item);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }, [], msgpack: false)));
    }

    /// <summary>
    /// REMOTE_JOIN / LEAVE / DISCONNECT without <c>opts</c> (before 8.x) target one <c>sid</c> and are answered
    /// <c>{"requestId"}</c> by the node that has it.
    /// </summary>
    private void OnLegacyRoomsRequest(JsonElement request, string uid)
    {
        var sid = RedisWire.GetString(request, "sid");
        if (sid is null || !Namespace.Sockets.TryGetValue(sid, out var socket))
        {
            return;
        }
        switch (RedisWire.GetInt(request, "type"))
        {
            case RemoteJoin when RedisWire.GetString(request, "room") is { } room:
                socket.Join(room);
                break;
            case RemoteLeave when RedisWire.GetString(request, "room") is { } room:
                socket.Leave(room);
                break;
            case RemoteDisconnect:
                socket.Disconnect(request.TryGetProperty("close", out var close) && close.ValueKind == JsonValueKind.True);
                break;
        }
        if (RedisWire.GetString(request, "requestId") is { } requestId)
        {
            Forget(PublishResponse(uid, RedisWire.Build(requestId, static (w, id) =>
            {
                w.WriteStartObject();
                w.WriteString("requestId", id);
                w.WriteEndObject();
            }, [], msgpack: false)));
        }
    }

    /// <summary>An answer nobody waits for: a failure was logged by the connections already.</summary>
    private static void Forget(Task publish) =>
        publish.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}

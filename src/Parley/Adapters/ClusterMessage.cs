using System.Text.Json;

namespace Parley.Adapters;

/// <summary>
/// One message between the nodes of a cluster (socket.io-adapter's <c>ClusterMessage</c> and
/// <c>ClusterResponse</c>): the sender's uid, the namespace, the type and its data object. The data is JSON with
/// binary values as socket.io placeholders (<c>{"_placeholder":true,"num":N}</c>) numbering into
/// <see cref="Attachments"/>, so a transport chooses its own encoding: the JSON text as is when there is no binary,
/// or msgpack with the placeholders turned back into binary (what Node's adapters do).
/// </summary>
public sealed class ClusterMessage
{
    private static readonly IReadOnlyList<ReadOnlyMemory<byte>> s_none = [];
    private JsonElement? _data;
    private ReadOnlyMemory<byte>? _json;
    private BroadcastOptions? _options;
    private string? _requestId;
    private bool _optionsRead;
    private bool _requestIdRead;

    /// <summary>A message whose data is a parsed JSON value (<see cref="JsonValueKind.Undefined"/>: no data).</summary>
    public ClusterMessage(string uid, string @namespace, ClusterMessageType type, JsonElement data, IReadOnlyList<ReadOnlyMemory<byte>>? attachments = null)
    {
        ArgumentNullException.ThrowIfNull(uid);
        ArgumentNullException.ThrowIfNull(@namespace);
        Uid = uid;
        Namespace = @namespace;
        Type = type;
        _data = data;
        Attachments = attachments ?? s_none;
    }

    /// <summary>A message whose data is UTF-8 JSON text (empty: no data).</summary>
    public ClusterMessage(string uid, string @namespace, ClusterMessageType type, ReadOnlyMemory<byte> dataJson, IReadOnlyList<ReadOnlyMemory<byte>>? attachments = null)
    {
        ArgumentNullException.ThrowIfNull(uid);
        ArgumentNullException.ThrowIfNull(@namespace);
        Uid = uid;
        Namespace = @namespace;
        Type = type;
        _json = dataJson;
        Attachments = attachments ?? s_none;
    }

    /// <summary>The sending node's uid.</summary>
    public string Uid { get; }

    /// <summary>The namespace (<c>/</c> for the main one).</summary>
    public string Namespace { get; }

    /// <summary>What the message asks or answers.</summary>
    public ClusterMessageType Type { get; }

    /// <summary>Binary values of <see cref="Data"/>, in placeholder order.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Attachments { get; }

    /// <summary>Whether the message has a data object (heartbeats and <c>ADAPTER_CLOSE</c> have none).</summary>
    public bool HasData => _json is { } json ? !json.IsEmpty : _data!.Value.ValueKind != JsonValueKind.Undefined;

    /// <summary>The data object (binary as placeholders); <see cref="JsonValueKind.Undefined"/> when there is none.</summary>
    public JsonElement Data
    {
        get
        {
            // Computed at most once per message in practice; a race computes the same value twice.
            if (_data is { } data)
            {
                return data;
            }
            var json = _json!.Value;
            if (json.IsEmpty)
            {
                _data = default(JsonElement);
                return default;
            }
            using var document = JsonDocument.Parse(json);
            var parsed = document.RootElement.Clone();
            _data = parsed;
            return parsed;
        }
    }

    /// <summary>The data object as UTF-8 JSON (binary as placeholders); empty when there is none.</summary>
    public ReadOnlyMemory<byte> DataJson
    {
        get
        {
            if (_json is { } json)
            {
                return json;
            }
            var data = _data!.Value;
            var text = data.ValueKind == JsonValueKind.Undefined ? ReadOnlyMemory<byte>.Empty : System.Text.Encoding.UTF8.GetBytes(data.GetRawText());
            _json = text;
            return text;
        }
    }

    /// <summary>
    /// The sockets a BROADCAST, SOCKETS_JOIN, SOCKETS_LEAVE, DISCONNECT_SOCKETS or FETCH_SOCKETS targets (its
    /// <c>opts</c>); null for the other types. A transport that routes by room reads it, as the sharded Redis adapter
    /// picks a room's channel (sharded-adapter.ts <c>computeChannel</c>). Read from <see cref="Data"/> once, unless
    /// the message was made by this node's adapter, which knows it already.
    /// </summary>
    public BroadcastOptions? Options
    {
        get
        {
            if (!_optionsRead)
            {
                _options = Type is ClusterMessageType.Broadcast or ClusterMessageType.SocketsJoin or ClusterMessageType.SocketsLeave
                    or ClusterMessageType.DisconnectSockets or ClusterMessageType.FetchSockets
                    ? ClusterJson.TryGet(Data, "opts", out var opts) ? ClusterJson.ReadOptions(opts) : new BroadcastOptions()
                    : null;
                _optionsRead = true;
            }
            return _options;
        }
    }

    /// <summary>
    /// The request id (<c>data.requestId</c>) of a request that waits for answers, or of an answer; null for the rest.
    /// A BROADCAST has one only when it expects acks: upstream's transports keep such a broadcast out of their logs
    /// and off room channels (streams <c>isEphemeral</c>, sharded <c>computeChannel</c>).
    /// </summary>
    public string? RequestId
    {
        get
        {
            if (!_requestIdRead)
            {
                _requestId = ClusterJson.GetString(Data, "requestId");
                _requestIdRead = true;
            }
            return _requestId;
        }
    }

    /// <summary>Records what the adapter that made the message knows, so that a transport need not parse it back.</summary>
    internal ClusterMessage With(BroadcastOptions? options, string? requestId)
    {
        (_options, _optionsRead, _requestId, _requestIdRead) = (options, true, requestId, true);
        return this;
    }

    /// <summary>
    /// Whether this type may carry binary values (upstream's <c>mayContainBinary</c>: broadcasts, fetched sockets,
    /// server-side events and their answers, broadcast acks).
    /// </summary>
    public bool MayContainBinary => Type is ClusterMessageType.Broadcast or ClusterMessageType.FetchSocketsResponse or ClusterMessageType.ServerSideEmit
        or ClusterMessageType.ServerSideEmitResponse or ClusterMessageType.BroadcastAck;

    /// <summary>Whether the data holds binary values: a transport that has a text-only form must not use it then.</summary>
    public bool HasBinary => Attachments.Count > 0;
}

using System.Buffers;
using System.Text.Json;
using Parley.Adapters;
using Parley.MessagePack;
using StackExchange.Redis;
using Parley.Serialization;

namespace Parley.Redis;

/// <summary>
/// The classic Redis adapter, wire-compatible with <c>@socket.io/redis-adapter</c> 8.x <c>createAdapter</c>
/// (<c>lib/index.ts</c>; docs/wire-formats.md §5.1). Channels for namespace <c>nsp</c> and key <c>k</c>:
/// broadcasts on <c>k#nsp#</c> or <c>k#nsp#room#</c> (PSUBSCRIBE <c>k#nsp#*</c>), requests on
/// <c>k-request#nsp#</c>, responses on <c>k-response#nsp#</c> (and <c>k-response#nsp#uid#</c>).
/// Requests and responses live in <c>RedisAdapter.Requests.cs</c>.
/// </summary>
internal sealed partial class RedisAdapter : RedisAdapterBase
{
    private readonly string _channel;
    private readonly string _requestChannel;
    private readonly string _responseChannel;
    private readonly string _specificResponseChannel;
    private readonly RedisMessageHandler _onBroadcast;
    private readonly RedisMessageHandler _onRequest;
    private readonly byte[] _uidUtf8;

    public RedisAdapter(Namespace @namespace, RedisConnections connections, RedisAdapterOptions options, TimeProvider time)
        : base(@namespace, connections, options, time, RedisWire.Uid2())
    {
        var prefix = options.Key;
        _channel = prefix + "#" + @namespace.Name + "#";
        _requestChannel = prefix + "-request#" + @namespace.Name + "#";
        _responseChannel = prefix + "-response#" + @namespace.Name + "#";
        _specificResponseChannel = _responseChannel + Uid + "#";
        _uidUtf8 = System.Text.Encoding.UTF8.GetBytes(Uid);
        _onBroadcast = Queued(OnBroadcastMessage);
        _onRequest = Queued(OnRequestMessage);
    }

    /// <summary>
    /// A classic channel routed by its hash slot on a Redis Cluster (elsewhere routing changes nothing): every PUBLISH
    /// to one channel leaves from the same node, so the cluster bus delivers them in publish order (StackExchange.Redis
    /// would otherwise spread a literal channel's publishes over the nodes, and they could overtake one another).
    /// </summary>
    private static RedisChannel Routed(string channel) => RedisChannel.Literal(channel).WithKeyRouting();

    /// <summary>
    /// PSUBSCRIBE <c>k#nsp#*</c>, then SUBSCRIBE the request, response and specific response channels, as upstream
    /// (recorded in docs/wire-formats.md §5.1). Exactly one subscription of the request channel per namespace and node: peers
    /// count nodes with <c>PUBSUB NUMSUB</c> on it.
    /// </summary>
    private protected override async Task SubscribeAsync()
    {
        RedisLog.AdapterStarted(Logger, Uid, Namespace.Name, "classic");
        await Connections.SubscribeAsync(RedisChannel.Pattern(_channel + "*"), _onBroadcast).ConfigureAwait(false);
        await Task.WhenAll(
            Connections.SubscribeAsync(Routed(_requestChannel), _onRequest),
            Connections.SubscribeAsync(Routed(_responseChannel), _onRequest),
            Connections.SubscribeAsync(Routed(_specificResponseChannel), _onRequest)).ConfigureAwait(false);
    }

    private protected override Task UnsubscribeAsync() =>
        Task.WhenAll(
            Connections.UnsubscribeAsync(RedisChannel.Pattern(_channel + "*")),
            Connections.UnsubscribeAsync(Routed(_requestChannel)),
            Connections.UnsubscribeAsync(Routed(_responseChannel)),
            Connections.UnsubscribeAsync(Routed(_specificResponseChannel)));

    private protected override Task<long> CountSubscribersAsync() => Connections.CountSubscribersAsync(_requestChannel, sharded: false);

    // ---- broadcasts ----

    /// <summary>
    /// Local sockets first (never waiting on Redis), then one PUBLISH, pipelined and not awaited: while Redis is down
    /// it fails fast and is logged, and remote nodes miss the broadcast.
    /// </summary>
    public override Task BroadcastAsync(BroadcastPacket packet, BroadcastOptions options)
    {
        BroadcastLocal(packet, options);
        if (!options.Flags.Local)
        {
            Connections.Publish(Routed(BroadcastChannel(options)), EncodeBroadcast(packet, options));
        }
        return Task.CompletedTask;
    }

    /// <summary><c>k#nsp#</c>, or <c>k#nsp#room#</c> for exactly one room (index.ts <c>broadcast</c> L631-634).</summary>
    private string BroadcastChannel(BroadcastOptions options)
    {
        if (options.Rooms.Count == 1)
        {
            foreach (var room in options.Rooms)
            {
                return _channel + room + "#";
            }
        }
        return _channel;
    }

    /// <summary>
    /// notepack <c>[uid, {type:2, data:[event,...args], nsp}, {rooms:[...], except:[...], flags:{...}}]</c>
    /// (index.ts <c>broadcast</c>; bytes recorded in docs/wire-formats.md §5.1). Binary arguments are msgpack <c>bin</c>.
    /// Encoded once per broadcast.
    /// </summary>
    internal ReadOnlyMemory<byte> EncodeBroadcast(BroadcastPacket packet, BroadcastOptions options)
    {
        var buffer = new ArrayBufferWriter<byte>(packet.Payload.Json.Length + 64);
        var w = new MessagePackWriter(buffer);
        w.WriteArrayHeader(3);
        w.WriteString(Uid);
        w.WriteMapHeader(3);
        w.WriteString("type");
        w.WriteInt64(2);
        w.WriteString("data");
        RedisWire.WritePayload(ref w, packet.Payload);
        w.WriteString("nsp");
        w.WriteString(Namespace.Name);
        w.WriteMapHeader(3);
        w.WriteString("rooms");
        RedisWire.WriteStringArray(ref w, options.Rooms);
        w.WriteString("except");
        RedisWire.WriteStringArray(ref w, options.Except);
        w.WriteString("flags");
        RedisWire.WriteFlags(ref w, options.Flags);
        return buffer.WrittenMemory;
    }

    /// <summary>
    /// A broadcast from another node (index.ts <c>onmessage</c>): ignored when the room (from the channel) is not
    /// local, when it is our own, or for another namespace; delivered locally otherwise.
    /// </summary>
    private void OnBroadcastMessage(in RedisMessage message)
    {
        var channel = message.Channel;
        if (!channel.StartsWith(_channel, StringComparison.Ordinal))
        {
            return;
        }
        if (channel.Length > _channel.Length + 1)
        {
            var room = channel[_channel.Length..^1];
            if (!HasRoom(room))
            {
                return;
            }
        }
        if (!TryReadBroadcast(message.Payload.Span, out var payload, out var options))
        {
            return;
        }
        BroadcastLocal(new BroadcastPacket(Namespace.Name, payload!), options!);
    }

    /// <summary>
    /// Reads <c>[uid, packet, opts]</c> straight from msgpack: the uid is compared before anything else is decoded,
    /// and only <c>packet.data</c> is turned into the JSON + attachments local clients are sent.
    /// </summary>
    private bool TryReadBroadcast(ReadOnlySpan<byte> raw, out SocketPayload? payload, out BroadcastOptions? options)
    {
        payload = null;
        options = null;
        try
        {
            var reader = new MessagePackReader(raw);
            if (reader.ReadArrayHeader() < 3)
            {
                return false;
            }
            if (reader.ReadStringUtf8().SequenceEqual(_uidUtf8))
            {
                return false;
            }
            var nsp = "/";
            var attachments = new List<byte[]>();
            var json = new ArrayBufferWriter<byte>(raw.Length + 32);
            var hasData = false;
            var fields = reader.ReadMapHeader();
            for (var i = 0; i < fields; i++)
            {
                var key = reader.ReadStringUtf8();
                if (key.SequenceEqual("data"u8))
                {
                    using var writer = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
                    MessagePackJson.WriteJson(ref reader, writer, attachments);
                    hasData = true;
                }
                else if (key.SequenceEqual("nsp"u8) && reader.NextType == MessagePackType.String)
                {
                    nsp = reader.ReadString();
                }
                else
                {
                    reader.Skip();
                }
            }
            if (!hasData || nsp != Namespace.Name)
            {
                return false;
            }
            // opts is small: read it through JSON.
            var optsJson = new ArrayBufferWriter<byte>(64);
            using (var writer = new Utf8JsonWriter(optsJson))
            {
                MessagePackJson.WriteJson(ref reader, writer, []);
            }
            using var opts = JsonDocument.Parse(optsJson.WrittenMemory);
            options = RedisWire.ReadOptions(opts.RootElement);
            payload = new SocketPayload(json.WrittenMemory, attachments.Count == 0 ? null : attachments.ConvertAll(static b => (ReadOnlyMemory<byte>)b));
            return true;
        }
        catch (Exception e) when (e is MessagePackFormatException or JsonException or InvalidOperationException)
        {
            RedisLog.MalformedMessage(Logger, _channel, e);
            return false;
        }
    }
}

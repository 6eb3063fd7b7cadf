using System.Buffers;
using System.Text.Json;
using Parley.Adapters;
using MessagePack;
using Parley.Serialization;
using StackExchange.Redis;

namespace Parley.Redis;

/// <summary>
/// The classic Redis adapter, wire-compatible with <c>@socket.io/redis-adapter</c> 8.x <c>createAdapter</c>
/// (<c>lib/index.ts</c>; docs/wire-formats.md §5.1). Channels for namespace <c>nsp</c> and key <c>k</c>:
/// broadcasts on <c>k#nsp#</c> or <c>k#nsp#room#</c> (PSUBSCRIBE <c>k#nsp#*</c>), requests on
/// <c>k-request#nsp#</c>, responses on <c>k-response#nsp#</c> (and <c>k-response#nsp#uid#</c>).
/// <para>
/// Upstream's classic adapter is not a socket.io-adapter <c>ClusterAdapter</c>, but its requests mean the same:
/// this class is a <see cref="ClusterAdapter"/> whose transport translates each <see cref="ClusterMessage"/> to the
/// classic bytes and back (here for broadcasts, in <c>RedisAdapter.Requests.cs</c> for requests and responses), so
/// the contract runs every operation and waits for the answers.
/// </para>
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

    // ---- the transport ----

    /// <summary>
    /// A broadcast without acks on its broadcast channel (PUBLISH, pipelined: while Redis is down it fails fast and is
    /// logged, and remote nodes miss it); anything else on the request channel.
    /// </summary>
    protected override Task<string?> PublishAsync(ClusterMessage message)
    {
        if (message.Type == ClusterMessageType.Broadcast && message.RequestId is null)
        {
            return PublishOn(Routed(BroadcastChannel(message.Options!)), EncodeBroadcast(message));
        }
        var request = EncodeRequest(message);
        return request.IsEmpty ? Task.FromResult<string?>(null) : PublishOn(Routed(_requestChannel), request);
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
    /// (index.ts <c>broadcast</c>; bytes recorded in docs/wire-formats.md §5.1), from the BROADCAST's
    /// <c>{packet, opts}</c>. Binary arguments are msgpack <c>bin</c>. Encoded once per broadcast.
    /// </summary>
    private ReadOnlyMemory<byte> EncodeBroadcast(ClusterMessage message)
    {
        using var document = JsonDocument.Parse(message.DataJson);
        var data = document.RootElement;
        var buffer = new ArrayBufferWriter<byte>(message.DataJson.Length + 64);
        var w = new MessagePackWriter(buffer);
        w.WriteArrayHeader(3);
        w.Write(Uid);
        w.WriteMapHeader(3);
        w.Write("type");
        w.Write(2);
        w.Write("data");
        MessagePackJson.WriteMessagePack(ref w, data.GetProperty("packet").GetProperty("data"), message.Attachments);
        w.Write("nsp");
        w.Write(message.Namespace);
        MessagePackJson.WriteMessagePack(ref w, data.GetProperty("opts"), []);
        w.Flush();
        return buffer.WrittenMemory;
    }

    /// <summary>
    /// A broadcast from another node (index.ts <c>onmessage</c>): ignored when the room (from the channel) is not
    /// local, when it is our own, or for another namespace; handed to the contract as a BROADCAST otherwise.
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
        ClusterMessage? broadcast;
        try
        {
            broadcast = ReadBroadcast(message.Payload);
        }
        // Besides the bridge's MessagePackSerializationException, MessagePack-CSharp's own reads (the header, the uid,
        // the keys, Skip) report a truncation as EndOfStreamException and a forged 32-bit length as
        // ArgumentOutOfRangeException.
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or ArgumentOutOfRangeException or JsonException or InvalidOperationException)
        {
            RedisLog.MalformedMessage(Logger, channel, e);
            return;
        }
        if (broadcast is not null)
        {
            OnMessage(broadcast);
        }
    }

    /// <summary>
    /// Reads <c>[uid, packet, opts]</c> straight from msgpack into a BROADCAST's <c>{packet:{type, data}, opts}</c>:
    /// the uid is compared before anything else is decoded. Null for our own, another namespace's, or one with no data.
    /// </summary>
    private ClusterMessage? ReadBroadcast(ReadOnlyMemory<byte> raw)
    {
        var reader = new MessagePackReader(raw);
        if (reader.ReadArrayHeader() < 3)
        {
            return null;
        }
        // The reader is over one block of memory, so a string is one span.
        var uid = reader.ReadStringSequence() is { } u ? u.FirstSpan : default;
        if (uid.SequenceEqual(_uidUtf8))
        {
            return null;
        }
        var sender = System.Text.Encoding.UTF8.GetString(uid);
        var nsp = "/";
        var attachments = new List<ReadOnlyMemory<byte>>();
        var json = new ArrayBufferWriter<byte>(raw.Length + 32);
        var hasData = false;
        using (var writer = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("packet");
            writer.WriteNumber("type", 2);
            var fields = reader.ReadMapHeader();
            for (var i = 0; i < fields; i++)
            {
                var key = reader.ReadStringSequence() is { } k ? k.FirstSpan : default;
                if (key.SequenceEqual("data"u8) && !hasData)
                {
                    writer.WritePropertyName("data");
                    MessagePackJson.WriteJson(ref reader, writer, attachments);
                    hasData = true;
                }
                else if (key.SequenceEqual("nsp"u8) && reader.NextMessagePackType == MessagePackType.String)
                {
                    nsp = reader.ReadString()!;
                }
                else
                {
                    reader.Skip();
                }
            }
            if (!hasData || nsp != Namespace.Name)
            {
                return null;
            }
            writer.WriteEndObject();
            writer.WritePropertyName("opts");
            MessagePackJson.WriteJson(ref reader, writer, []);
            writer.WriteEndObject();
        }
        return new ClusterMessage(sender, nsp, ClusterMessageType.Broadcast, json.WrittenMemory, attachments.Count == 0 ? null : attachments);
    }
}

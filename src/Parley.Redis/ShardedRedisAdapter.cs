using System.Text.Json;
using Parley.Adapters;
using StackExchange.Redis;

namespace Parley.Redis;

/// <summary>
/// The sharded Redis adapter, wire-compatible with <c>@socket.io/redis-adapter</c> 8.x <c>createShardedAdapter</c>,
/// which is a socket.io-adapter <c>ClusterAdapter</c> (<c>lib/sharded-adapter.ts</c>; docs/wire-formats.md
/// §5.2–5.3): so is this class, and it is only the transport. SSUBSCRIBE <c>p#nsp#</c> and <c>p#nsp#uid#</c>, plus
/// <c>p#nsp#room#</c> per local room in the dynamic modes; SPUBLISH ClusterMessages <c>{type, data, uid, nsp}</c>
/// (JSON, or msgpack when a message that may carry binary does); server count by <c>PUBSUB SHARDNUMSUB p#nsp#</c>.
/// </summary>
internal sealed class ShardedRedisAdapter : RedisAdapterBase
{
    private readonly string _channel;
    private readonly string _responseChannel;
    private readonly RedisMessageHandler _onMessage;
    // Room channels this node is subscribed to; changed only under _roomSync (see Reconcile).
    private readonly HashSet<string> _roomChannels = new(StringComparer.Ordinal);
    private readonly Lock _roomSync = new();

    public ShardedRedisAdapter(Namespace @namespace, RedisConnections connections, RedisAdapterOptions options, TimeProvider time)
        : base(@namespace, connections, options, time, uid: null)
    {
        _channel = options.ChannelPrefix + "#" + @namespace.Name + "#";
        _responseChannel = _channel + Uid + "#";
        _onMessage = Queued(OnRawMessage);
    }

    private protected override async Task SubscribeAsync()
    {
        RedisLog.AdapterStarted(Logger, Uid, Namespace.Name, "sharded " + RedisOptions.SubscriptionMode);
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
    private bool HasOwnChannel(string room) => RedisOptions.SubscriptionMode switch
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
    private string Channel(ClusterMessage message)
    {
        var mode = RedisOptions.SubscriptionMode;
        if (message.Type == ClusterMessageType.Broadcast && mode != ShardedSubscriptionMode.Static && message.Options is { Rooms.Count: 1 } options &&
            message.RequestId is null)
        {
            foreach (var room in options.Rooms)
            {
                if (mode == ShardedSubscriptionMode.DynamicPrivate || room.Length != 20)
                {
                    return _channel + room + "#";
                }
            }
        }
        return _channel;
    }

    // ---- the transport ----

    /// <summary>SPUBLISH on the namespace's channel, or a room's (<see cref="Channel"/>; <c>doPublish</c>).</summary>
    protected override Task<string?> PublishAsync(ClusterMessage message) => PublishOn(RedisChannel.Sharded(Channel(message)), Encode(message));

    /// <summary>Answers go to the requester's own channel <c>p#nsp#requesterUid#</c> (<c>doPublishResponse</c>).</summary>
    protected override Task PublishResponseAsync(string requesterUid, ClusterMessage response) =>
        PublishOn(RedisChannel.Sharded(_channel + requesterUid + "#"), Encode(response));

    /// <summary>
    /// <c>{"type":T,"data":{...},"uid":"…","nsp":"…"}</c> (uid and nsp come last because <c>publishAndReturnOffset</c>
    /// adds them); msgpack only when the type may carry binary and does (<c>encode</c>).
    /// </summary>
    private static ReadOnlyMemory<byte> Encode(ClusterMessage message) =>
        RedisWire.Build(message, static (w, m) =>
        {
            w.WriteStartObject();
            w.WriteNumber("type", (int)m.Type);
            if (m.HasData)
            {
                w.WritePropertyName("data");
                w.WriteRawValue(m.DataJson.Span, skipInputValidation: true);
            }
            w.WriteString("uid", m.Uid);
            w.WriteString("nsp", m.Namespace);
            w.WriteEndObject();
        }, message.MayContainBinary ? message.Attachments : [], msgpack: false);

    /// <summary><c>onRawMessage</c>: JSON or msgpack by the first byte, as the streams adapter's pub/sub messages.</summary>
    private void OnRawMessage(in RedisMessage raw)
    {
        ClusterMessage? message;
        try
        {
            message = StreamsWire.DecodePubSub(raw.Payload);
        }
        catch (Exception e) when (e is JsonException or MessagePack.MessagePackSerializationException)
        {
            RedisLog.MalformedMessage(Logger, raw.Channel, e);
            return;
        }
        if (message is not null)
        {
            OnMessage(message);
        }
    }
}

using StackExchange.Redis;

namespace Parley.Redis;

/// <summary>
/// Options of the Redis adapter, with the names of <c>@socket.io/redis-adapter</c> 8.x (<c>lib/index.ts</c>
/// <c>RedisAdapterOptions</c> and <c>lib/sharded-adapter.ts</c> <c>ShardedRedisAdapterOptions</c>) so one
/// configuration reads the same in a mixed Node/.NET cluster.
/// </summary>
public sealed class RedisAdapterOptions
{
    /// <summary>
    /// Where Redis is and how to reach it (StackExchange.Redis options: endpoints or a cluster's seed list, Sentinel's
    /// <c>ServiceName</c>, TLS, user and password, timeouts); set from the URL or configuration string given to
    /// <c>AddRedis</c>. Null when the adapter uses the application's <see cref="IConnectionMultiplexer"/> from DI
    /// (<c>AddRedis()</c>).
    /// </summary>
    public ConfigurationOptions? Configuration { get; set; }

    /// <summary>Use the sharded adapter (<c>createShardedAdapter</c>: SSUBSCRIBE/SPUBLISH, Redis 7+). Default false.</summary>
    public bool Sharded { get; set; }

    /// <summary>Classic: the channel prefix (<c>key</c>). Default <c>socket.io</c>.</summary>
    public string Key { get; set; } = "socket.io";

    /// <summary>How long fetchSockets / serverSideEmit with ack wait for the other nodes (<c>requestsTimeout</c>). Default 5 s.</summary>
    public TimeSpan RequestsTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Classic: answer requests on <c>{key}-response#{nsp}#{requesterUid}#</c> instead of the shared response channel
    /// (<c>publishOnSpecificResponseChannel</c>). Default false. Every node must agree on it.
    /// </summary>
    public bool PublishOnSpecificResponseChannel { get; set; }

    /// <summary>
    /// How long a server count (<c>PUBSUB NUMSUB</c> / <c>SHARDNUMSUB</c>) is reused. Upstream asks Redis on every
    /// fetchSockets, serverSideEmitWithAck and broadcast with acks; within this window Parley answers from the last
    /// count, so a node that joined or left less than this long ago may be missed or waited for (until the request
    /// times out). Default 1 s; <see cref="TimeSpan.Zero"/> asks every time.
    /// </summary>
    public TimeSpan ServerCountCacheDuration { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How many incoming messages per namespace may wait for delivery to local sockets (they are delivered off the
    /// Redis read loop, in order). Past it newer messages are dropped and an error is logged. Default 65,536.
    /// </summary>
    public int MaxQueuedMessages { get; set; } = 65_536;

    /// <summary>Sharded: the channel prefix (<c>channelPrefix</c>). Default <c>socket.io</c>.</summary>
    public string ChannelPrefix { get; set; } = "socket.io";

    /// <summary>Sharded: which rooms get their own shard channel (<c>subscriptionMode</c>). Default <see cref="ShardedSubscriptionMode.Dynamic"/>.</summary>
    public ShardedSubscriptionMode SubscriptionMode { get; set; } = ShardedSubscriptionMode.Dynamic;
}

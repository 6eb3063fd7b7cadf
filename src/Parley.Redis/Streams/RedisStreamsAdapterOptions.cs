using StackExchange.Redis;

namespace Parley.Redis;

/// <summary>
/// Options of the Redis Streams adapter, with the names and defaults of <c>@socket.io/redis-streams-adapter</c> 0.3.x
/// (<c>lib/adapter.ts</c> <c>RedisStreamsAdapterOptions</c>), so one configuration reads the same in a mixed Node/.NET
/// cluster. Every node of a cluster must agree on <see cref="StreamName"/>, <see cref="ChannelPrefix"/> and
/// <see cref="SessionKeyPrefix"/>.
/// </summary>
public sealed class RedisStreamsAdapterOptions
{
    /// <summary>The stream every node appends to and reads (<c>streamName</c>). Default <c>socket.io</c>.</summary>
    public string StreamName { get; set; } = "socket.io";

    /// <summary>The approximate length the stream is trimmed to on each append (<c>maxLen</c>, <c>XADD MAXLEN ~</c>). Default 10,000.</summary>
    public int MaxLength { get; set; } = 10_000;

    /// <summary>How many entries one <c>XREAD</c> returns at most (<c>readCount</c>). Default 100.</summary>
    public int ReadCount { get; set; } = 100;

    /// <summary>How long one <c>XREAD</c> blocks waiting for entries (<c>blockTimeInMs</c>). Default 5 s.</summary>
    public TimeSpan BlockTime { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Prefix of the pub/sub channels that carry what is not kept in the stream — requests that wait for answers and the
    /// answers themselves (<c>channelPrefix</c>): <c>{prefix}#{nsp}#</c> and <c>{prefix}#{nsp}#{uid}#</c>. Default <c>socket.io</c>.
    /// </summary>
    public string ChannelPrefix { get; set; } = "socket.io";

    /// <summary>Prefix of the keys of connection-state-recovery sessions (<c>sessionKeyPrefix</c>). Default <c>sio:session:</c>.</summary>
    public string SessionKeyPrefix { get; set; } = "sio:session:";

    /// <summary>
    /// Write stream entries as JSON even when they carry binary (<c>onlyPlaintext</c>; binary then does not survive).
    /// Default false: an entry with binary is base64 msgpack, as upstream writes it.
    /// </summary>
    public bool OnlyPlaintext { get; set; }

    /// <summary>
    /// Where the stream reader's own connection goes (it blocks in XREAD, so it cannot share the adapter's). Default
    /// null: the configuration given to <c>AddRedisStreams</c>, or else that of the application's
    /// <see cref="IConnectionMultiplexer"/>, read back from its configuration string — which loses certificate
    /// callbacks (TLS with a private CA or a client certificate): set it then.
    /// </summary>
    public ConfigurationOptions? ReaderConfiguration { get; set; }

    /// <summary>How long fetchSockets and serverSideEmit with acks wait for the other nodes. Default 5 s.</summary>
    public TimeSpan RequestsTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How many incoming messages per namespace may wait for delivery to local sockets. Past it newer messages are
    /// dropped and an error is logged. Default 65,536.
    /// </summary>
    public int MaxQueuedMessages { get; set; } = 65_536;
}

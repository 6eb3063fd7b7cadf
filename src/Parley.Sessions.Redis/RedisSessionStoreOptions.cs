namespace Parley.Sessions.Redis;

/// <summary>Options of the Redis session store, with connect-redis's names and defaults.</summary>
public sealed class RedisSessionStoreOptions
{
    /// <summary>The Redis server, <c>redis://[user:password@]host[:port][/db]</c> or <c>rediss://</c>.</summary>
    public string Url { get; set; } = "redis://127.0.0.1:6379";

    /// <summary>Key prefix (connect-redis <c>prefix</c>, <c>sess:</c>).</summary>
    public string Prefix { get; set; } = "sess:";

    /// <summary>TTL of a session whose cookie has no expiry (connect-redis <c>ttl</c>, 86400 s).</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromSeconds(86400);

    /// <summary>Skip <c>EXPIRE</c> on touch (connect-redis <c>disableTouch</c>).</summary>
    public bool DisableTouch { get; set; }

    /// <summary>Store keys without a TTL (connect-redis <c>disableTTL</c>).</summary>
    public bool DisableTtl { get; set; }
}

using StackExchange.Redis;

namespace Parley.Sessions.Redis;

/// <summary>Options of the Redis session store, with connect-redis's names and defaults.</summary>
public sealed class RedisSessionStoreOptions
{
    internal const string DefaultUrl = "redis://127.0.0.1:6379";

    /// <summary>
    /// The Redis server: <c>redis://[[user]:password@]host[:port][,host[:port]…][/db]</c> or <c>rediss://</c> (several
    /// hosts: a Redis Cluster's seed list), or a StackExchange.Redis configuration string (<c>serviceName=…</c> for
    /// Sentinel). When neither this nor <see cref="Configuration"/> is set, the store uses the application's
    /// <c>IConnectionMultiplexer</c> from DI if there is one, else <c>redis://127.0.0.1:6379</c>.
    /// </summary>
    public string? Url { get; set; }

    /// <summary>StackExchange.Redis options (TLS certificates, timeouts…); wins over <see cref="Url"/>.</summary>
    public ConfigurationOptions? Configuration { get; set; }

    /// <summary>Key prefix (connect-redis <c>prefix</c>, <c>sess:</c>).</summary>
    public string Prefix { get; set; } = "sess:";

    /// <summary>TTL of a session whose cookie has no expiry (connect-redis <c>ttl</c>, 86400 s).</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromSeconds(86400);

    /// <summary>Skip <c>EXPIRE</c> on touch (connect-redis <c>disableTouch</c>).</summary>
    public bool DisableTouch { get; set; }

    /// <summary>Store keys without a TTL (connect-redis <c>disableTTL</c>).</summary>
    public bool DisableTtl { get; set; }
}

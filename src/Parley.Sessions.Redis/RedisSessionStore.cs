using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Parley.Resp;

namespace Parley.Sessions.Redis;

/// <summary>
/// Sessions in Redis exactly as connect-redis 6–9 keeps them (tj/connect-redis <c>index.ts</c>; interop.md §2), so
/// an Express app with connect-redis and Parley share users:
/// <code>
/// get:     GET sess:&lt;id&gt;
/// set:     SET sess:&lt;id&gt; &lt;express-session JSON&gt; EX &lt;ttl&gt;    (DEL instead when ttl &lt;= 0)
/// touch:   EXPIRE sess:&lt;id&gt; &lt;ttl&gt;                          (the JSON is not rewritten)
/// destroy: DEL sess:&lt;id&gt;
/// </code>
/// ttl = ceil((cookie.expires − now) / 1 s), or <see cref="RedisSessionStoreOptions.Ttl"/> without an expiry.
/// The key's existence and TTL are authoritative, as in connect-redis.
/// </summary>
public sealed partial class RedisSessionStore : SessionStore, IAsyncDisposable
{
    private readonly RedisSessionStoreOptions _options;
    private readonly RespConnection _redis;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Creates the store; it connects on first use and reconnects in the background after that.</summary>
    public RedisSessionStore(IOptions<RedisSessionStoreOptions> options, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _time = timeProvider ?? TimeProvider.System;
        loggerFactory ??= NullLoggerFactory.Instance;
        _logger = loggerFactory.CreateLogger<RedisSessionStore>();
        _redis = new RespConnection(RespConnectionOptions.Parse(_options.Url), loggerFactory.CreateLogger<RespConnection>(), _time);
    }

    /// <summary>False while Redis is unreachable: requests then go on without a session, as express-session does.</summary>
    public override bool IsReady => !_redis.HasConnected || _redis.IsConnected;

    /// <inheritdoc />
    public override bool CanEnumerate => true;

    private string Key(string sessionId) => _options.Prefix + sessionId;

    private async ValueTask<RespConnection> RedisAsync(CancellationToken cancellationToken)
    {
        await _redis.EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
        return _redis;
    }

    /// <inheritdoc />
    public override async ValueTask<string?> GetAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var redis = await RedisAsync(cancellationToken).ConfigureAwait(false);
        var bytes = await redis.GetAsync(Key(sessionId)).ConfigureAwait(false);
        return bytes is null ? null : Encoding.UTF8.GetString(bytes);
    }

    /// <inheritdoc />
    public override async ValueTask SetAsync(string sessionId, SessionRecord record, CancellationToken cancellationToken = default)
    {
        var redis = await RedisAsync(cancellationToken).ConfigureAwait(false);
        var key = Key(sessionId);
        if (_options.DisableTtl)
        {
            await redis.ExecuteAsync("SET", key, Encoding.UTF8.GetBytes(record.Json)).ConfigureAwait(false);
            return;
        }
        var ttl = TtlSeconds(record);
        if (ttl <= 0)
        {
            await redis.DelAsync(key).ConfigureAwait(false);
            return;
        }
        await redis.ExecuteAsync("SET", key, Encoding.UTF8.GetBytes(record.Json), "EX", ttl).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask TouchAsync(string sessionId, SessionRecord record, CancellationToken cancellationToken = default)
    {
        if (_options.DisableTouch || _options.DisableTtl)
        {
            return;
        }
        var redis = await RedisAsync(cancellationToken).ConfigureAwait(false);
        await redis.ExecuteAsync("EXPIRE", Key(sessionId), TtlSeconds(record)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask DestroyAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var redis = await RedisAsync(cancellationToken).ConfigureAwait(false);
        await redis.DelAsync(Key(sessionId)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask<long> CountAsync(CancellationToken cancellationToken = default)
    {
        var redis = await RedisAsync(cancellationToken).ConfigureAwait(false);
        long count = 0;
        await foreach (var _ in redis.ScanAllAsync(_options.Prefix + "*").WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            count++;
        }
        return count;
    }

    /// <inheritdoc />
    public override async ValueTask ClearAsync(CancellationToken cancellationToken = default)
    {
        var redis = await RedisAsync(cancellationToken).ConfigureAwait(false);
        var keys = new List<string>();
        await foreach (var key in redis.ScanAllAsync(_options.Prefix + "*").WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            keys.Add(key);
        }
        if (keys.Count > 0)
        {
            await redis.DelAsync([.. keys]).ConfigureAwait(false);
        }
    }

    /// <summary>connect-redis getTTL: seconds until <c>cookie.expires</c>, rounded up, else the configured TTL.</summary>
    private long TtlSeconds(SessionRecord record) =>
        record.Expires is { } expires
            ? (long)Math.Ceiling((expires - _time.GetUtcNow()).TotalMilliseconds / 1000.0)
            : (long)Math.Ceiling(_options.Ttl.TotalSeconds);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _redis.DisposeAsync().ConfigureAwait(false);
    }
}

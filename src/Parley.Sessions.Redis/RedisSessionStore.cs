using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Internal;
using StackExchange.Redis;

namespace Parley.Sessions.Redis;

/// <summary>
/// Sessions in Redis exactly as connect-redis 6–9 keeps them (tj/connect-redis <c>index.ts</c>; docs/wire-formats.md §2), so
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
public sealed class RedisSessionStore : SessionStore, IAsyncDisposable
{
    private readonly RedisSessionStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly IConnectionMultiplexer? _shared;
    private readonly Lazy<Task<IConnectionMultiplexer>> _redis;

    /// <summary>
    /// Creates the store; it connects on first use and StackExchange.Redis reconnects in the background after that.
    /// With neither <see cref="RedisSessionStoreOptions.Url"/> nor <see cref="RedisSessionStoreOptions.Configuration"/>
    /// set, it uses <paramref name="multiplexer"/> (the application's, from DI) when there is one, and leaves it open.
    /// </summary>
    public RedisSessionStore(IOptions<RedisSessionStoreOptions> options, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null, IConnectionMultiplexer? multiplexer = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _time = timeProvider ?? TimeProvider.System;
        var configuration = _options.Configuration ?? (_options.Url is { } url || multiplexer is null
            ? RedisConfiguration.Parse(_options.Url ?? RedisSessionStoreOptions.DefaultUrl)
            : null);
        if (configuration is null)
        {
            _shared = multiplexer;
            _redis = new(Task.FromResult(multiplexer!));
        }
        else
        {
            configuration = configuration.Clone();
            // express-session goes on without a session while the store fails: fail at once, queue nothing.
            configuration.AbortOnConnectFail = false;
            configuration.BacklogPolicy = BacklogPolicy.FailFast;
            var writer = loggerFactory is null ? null : new LoggerTextWriter(loggerFactory.CreateLogger<RedisSessionStore>());
            _redis = new(async () => await ConnectionMultiplexer.ConnectAsync(configuration, writer).ConfigureAwait(false));
        }
    }

    /// <summary>False while Redis is unreachable: requests then go on without a session, as express-session does.</summary>
    public override bool IsReady => !_redis.IsValueCreated || !_redis.Value.IsCompleted || _redis.Value is { IsCompletedSuccessfully: true, Result.IsConnected: true };

    /// <inheritdoc />
    public override bool CanEnumerate => true;

    private RedisKey Key(string sessionId) => _options.Prefix + sessionId;

    private async ValueTask<IDatabase> RedisAsync(CancellationToken cancellationToken)
    {
        var multiplexer = await _redis.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        return multiplexer.GetDatabase();
    }

    /// <inheritdoc />
    public override async ValueTask<string?> GetAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var redis = await RedisAsync(cancellationToken).ConfigureAwait(false);
        var value = await redis.StringGetAsync(Key(sessionId)).ConfigureAwait(false);
        return value.IsNull ? null : Encoding.UTF8.GetString((byte[])value!);
    }

    /// <inheritdoc />
    public override async ValueTask SetAsync(string sessionId, SessionRecord record, CancellationToken cancellationToken = default)
    {
        var redis = await RedisAsync(cancellationToken).ConfigureAwait(false);
        var key = Key(sessionId);
        if (_options.DisableTtl)
        {
            await redis.StringSetAsync(key, Encoding.UTF8.GetBytes(record.Json)).ConfigureAwait(false);
            return;
        }
        var ttl = TtlSeconds(record);
        if (ttl <= 0)
        {
            await redis.KeyDeleteAsync(key).ConfigureAwait(false);
            return;
        }
        // SET key value EX ttl, as connect-redis.
        await redis.StringSetAsync(key, Encoding.UTF8.GetBytes(record.Json), TimeSpan.FromSeconds(ttl)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask TouchAsync(string sessionId, SessionRecord record, CancellationToken cancellationToken = default)
    {
        if (_options.DisableTouch || _options.DisableTtl)
        {
            return;
        }
        var redis = await RedisAsync(cancellationToken).ConfigureAwait(false);
        await redis.KeyExpireAsync(Key(sessionId), TimeSpan.FromSeconds(TtlSeconds(record))).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask DestroyAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var redis = await RedisAsync(cancellationToken).ConfigureAwait(false);
        await redis.KeyDeleteAsync(Key(sessionId)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask<long> CountAsync(CancellationToken cancellationToken = default)
    {
        long count = 0;
        await foreach (var _ in KeysAsync(cancellationToken).ConfigureAwait(false))
        {
            count++;
        }
        return count;
    }

    /// <inheritdoc />
    public override async ValueTask ClearAsync(CancellationToken cancellationToken = default)
    {
        var redis = await RedisAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var key in KeysAsync(cancellationToken).ConfigureAwait(false))
        {
            // One key per DEL: on a Redis Cluster the keys live in different slots.
            await redis.KeyDeleteAsync(key).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// SCAN with the prefix on every connected primary (one server outside a cluster; every shard of a cluster). A
    /// node StackExchange.Redis has not reached has no known role, and may be a replica: it is skipped.
    /// </summary>
    private async IAsyncEnumerable<RedisKey> KeysAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var multiplexer = await _redis.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        var database = multiplexer.GetDatabase().Database;
        foreach (var server in multiplexer.GetServers())
        {
            if (!server.IsConnected || server.IsReplica || server.ServerType == ServerType.Sentinel)
            {
                continue;
            }
            await foreach (var key in server.KeysAsync(database, _options.Prefix + "*").WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                yield return key;
            }
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
        if (_shared is null && _redis.IsValueCreated && _redis.Value.IsCompletedSuccessfully)
        {
            await _redis.Value.Result.DisposeAsync().ConfigureAwait(false);
        }
    }
}

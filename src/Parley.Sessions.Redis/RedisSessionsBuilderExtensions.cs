using Microsoft.Extensions.DependencyInjection;

namespace Parley.Sessions.Redis;

/// <summary>Chains the Redis store on <c>services.AddParleySessions(…)</c>.</summary>
public static class RedisSessionsBuilderExtensions
{
    /// <summary>Keeps sessions in Redis, in connect-redis's format (<c>sess:&lt;id&gt;</c>).</summary>
    public static ParleySessionsBuilder AddRedisStore(this ParleySessionsBuilder builder, Action<RedisSessionStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        return builder.AddStore<RedisSessionStore>();
    }

    /// <summary>
    /// Keeps sessions in the application's <c>IConnectionMultiplexer</c> (registered in DI, shared with the Redis
    /// adapter or IDistributedCache).
    /// </summary>
    public static ParleySessionsBuilder AddRedisStore(this ParleySessionsBuilder builder) => builder.AddRedisStore(_ => { });

    /// <summary>Keeps sessions in the Redis at <paramref name="url"/> (a URL or a StackExchange.Redis configuration string).</summary>
    public static ParleySessionsBuilder AddRedisStore(this ParleySessionsBuilder builder, string url) =>
        builder.AddRedisStore(o => o.Url = url);
}

using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Parley.Sessions.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Chains the Redis store on <c>services.AddParleySessions(…)</c>.</summary>
public static class RedisSessionsBuilderExtensions
{
    /// <summary>Keeps sessions in Redis, in connect-redis's format (<c>sess:&lt;id&gt;</c>).</summary>
    public static IParleySessionsBuilder AddRedisStore(this IParleySessionsBuilder builder, Action<RedisSessionStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<RedisSessionStoreOptions>().Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisSessionStoreOptions>, RedisSessionStoreOptionsValidator>());
        return builder.AddStore<RedisSessionStore>();
    }

    /// <summary>
    /// Keeps sessions in the application's <c>IConnectionMultiplexer</c> (registered in DI, shared with the Redis
    /// adapter or IDistributedCache).
    /// </summary>
    public static IParleySessionsBuilder AddRedisStore(this IParleySessionsBuilder builder) => builder.AddRedisStore(_ => { });

    /// <summary>Keeps sessions in the Redis at <paramref name="url"/> (a URL or a StackExchange.Redis configuration string).</summary>
    public static IParleySessionsBuilder AddRedisStore(this IParleySessionsBuilder builder, string url) =>
        builder.AddRedisStore(o => o.Url = url);
}

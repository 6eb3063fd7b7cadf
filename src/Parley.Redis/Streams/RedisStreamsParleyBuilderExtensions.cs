using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Hosting;
using Parley.Redis;
using StackExchange.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the Redis Streams adapter (<c>services.AddParley().AddRedisStreams("redis://…")</c>), in the style of <c>AddRedis</c>.</summary>
public static class RedisStreamsParleyBuilderExtensions
{
    /// <summary>
    /// Every namespace gets a Redis Streams adapter compatible with <c>@socket.io/redis-streams-adapter</c> 0.3.x:
    /// broadcasts and room changes go through one Redis stream, so a node that loses Redis for a while catches up when
    /// it is back, and connection state recovery works across nodes. <paramref name="connectionString"/> is read as
    /// by <c>AddRedis</c> (one server, a Redis Cluster's seed list, or a StackExchange.Redis configuration string).
    /// The health check and status of <c>AddRedis</c> apply (<c>AddParleyRedis</c>).
    /// </summary>
    public static IParleyBuilder AddRedisStreams(this IParleyBuilder builder, string connectionString, Action<RedisStreamsAdapterOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddRedis(connectionString);
        return builder.AddRedisStreamsCore(configure);
    }

    /// <summary>
    /// The Redis Streams adapter on the application's own <see cref="IConnectionMultiplexer"/> (registered in DI) for
    /// publishing and pub/sub; the stream is read on a connection of its own, made from the same configuration.
    /// </summary>
    public static IParleyBuilder AddRedisStreams(this IParleyBuilder builder, Action<RedisStreamsAdapterOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddRedis();
        return builder.AddRedisStreamsCore(configure);
    }

    private static IParleyBuilder AddRedisStreamsCore(this IParleyBuilder builder, Action<RedisStreamsAdapterOptions>? configure)
    {
        var services = builder.Services;
        services.AddOptions<RedisStreamsAdapterOptions>().Configure(o => configure?.Invoke(o)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisStreamsAdapterOptions>, RedisStreamsAdapterOptionsValidator>());
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RedisStreamsAdapterOptions>>().Value;
            var configuration = options.ReaderConfiguration
                ?? sp.GetRequiredService<IOptions<RedisAdapterOptions>>().Value.Configuration
                ?? ConfigurationOptions.Parse(sp.GetRequiredService<IConnectionMultiplexer>().Configuration);
            return new RedisStreamReader(configuration, options, sp.GetRequiredService<ILoggerFactory>());
        });
        services.Replace(ServiceDescriptor.Singleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RedisStreamsAdapterOptions>>().Value;
            var connections = sp.GetRequiredService<RedisConnections>();
            var reader = sp.GetRequiredService<RedisStreamReader>();
            return new ParleyAdapterFactory(nsp => new RedisStreamsAdapter(nsp, connections, reader, options));
        }));
        return builder;
    }
}

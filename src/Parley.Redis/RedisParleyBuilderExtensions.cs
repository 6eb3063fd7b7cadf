using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Hosting;
using Parley.Redis;
using Parley.Internal;
using StackExchange.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the Redis adapter (<c>services.AddParley().AddRedis("redis://…")</c>), like <c>AddSignalR().AddStackExchangeRedis()</c>.</summary>
public static class RedisParleyBuilderExtensions
{
    /// <summary>
    /// Every namespace gets a Redis adapter compatible with <c>@socket.io/redis-adapter</c> 8.x: classic by default,
    /// sharded with <c>o.Sharded = true</c>. <paramref name="connectionString"/> is a URL,
    /// <c>redis://[[user]:password@]host[:port][,host[:port]…][/db]</c> or <c>rediss://</c> (several hosts: a Redis
    /// Cluster's seed list), or a StackExchange.Redis configuration string (<c>serviceName=…</c> for Sentinel).
    /// </summary>
    public static IParleyBuilder AddRedis(this IParleyBuilder builder, string connectionString, Action<RedisAdapterOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = RedisConfiguration.Parse(connectionString);
        return builder.AddRedisCore(o =>
        {
            o.Configuration = configuration;
            configure?.Invoke(o);
        });
    }

    /// <summary>
    /// The Redis adapter on the application's own <see cref="IConnectionMultiplexer"/> (registered in DI, as for
    /// IDistributedCache or SignalR's backplane). Parley leaves it open on shutdown. For the fail-fast behaviour of
    /// src/Parley.Redis/README.md, make it with <c>AbortOnConnectFail = false</c> and <c>BacklogPolicy.FailFast</c>.
    /// </summary>
    public static IParleyBuilder AddRedis(this IParleyBuilder builder, Action<RedisAdapterOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddRedisCore(o => configure?.Invoke(o));
    }

    private static IParleyBuilder AddRedisCore(this IParleyBuilder builder, Action<RedisAdapterOptions> configure)
    {
        builder.Services.AddOptions<RedisAdapterOptions>().Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisAdapterOptions>, RedisAdapterOptionsValidator>());
        builder.Services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RedisAdapterOptions>>().Value;
            var loggerFactory = sp.GetRequiredService<ILoggerFactory>();
            var metrics = sp.GetRequiredService<RedisMetrics>();
            var connections = options.Configuration is { } configuration
                ? new RedisConnections(configuration, loggerFactory) { Metrics = metrics }
                : new RedisConnections(sp.GetService<IConnectionMultiplexer>()
                    ?? throw new InvalidOperationException("AddRedis() without a connection string needs an IConnectionMultiplexer in DI"), loggerFactory) { Metrics = metrics };
            metrics.Observe(connections);
            return connections;
        });
        builder.Services.AddMetrics();
        builder.Services.TryAddSingleton<RedisMetrics>();
        builder.Services.TryAddSingleton(sp => new RedisAdapterStatus(sp.GetRequiredService<RedisConnections>()));
        builder.Services.Replace(ServiceDescriptor.Singleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RedisAdapterOptions>>().Value;
            var connections = sp.GetRequiredService<RedisConnections>();
            // The clock AddParley gives the server, so the server-count cache follows an injected TimeProvider.
            var time = sp.GetRequiredService<TimeProvider>();
            return new ParleyAdapterFactory(nsp => options.Sharded
                ? new ShardedRedisAdapter(nsp, connections, options, time)
                : new RedisAdapter(nsp, connections, options, time));
        }));
        return builder;
    }

    /// <summary>The sharded adapter (<c>createShardedAdapter</c>, Redis 7+): <c>AddRedis</c> with <c>Sharded = true</c>.</summary>
    public static IParleyBuilder AddShardedRedis(this IParleyBuilder builder, string connectionString, Action<RedisAdapterOptions>? configure = null) =>
        builder.AddRedis(connectionString, o =>
        {
            o.Sharded = true;
            configure?.Invoke(o);
        });

    /// <summary>
    /// Adds <see cref="RedisAdapterHealthCheck"/> (after <c>AddRedis</c>): healthy while this node reaches the
    /// cluster through Redis. <paramref name="failureStatus"/> defaults to <see cref="HealthStatus.Unhealthy"/>;
    /// <see cref="HealthStatus.Degraded"/> keeps a node that still serves its own clients in rotation.
    /// </summary>
    public static IHealthChecksBuilder AddParleyRedis(this IHealthChecksBuilder builder, string name = "parley-redis", HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => new RedisAdapterHealthCheck(sp.GetService<RedisAdapterStatus>()
                ?? throw new InvalidOperationException("AddParleyRedis() needs services.AddParley().AddRedis(…) first")),
            failureStatus,
            tags));
    }
}

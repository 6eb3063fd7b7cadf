using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Parley.Redis;

/// <summary>
/// The <c>Parley.Redis</c> meter: what the Redis adapter publishes and receives, how long cluster requests take, and
/// whether its connections are up. Registered by <c>AddRedis</c>; the instruments are listed in docs/metrics.md.
/// </summary>
/// <remarks>
/// A publish is one PUBLISH/SPUBLISH whatever the number of recipients on the other nodes, so these counters cost
/// one add per Redis command, never one per socket.
/// </remarks>
public sealed class RedisMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Parley.Redis";

    private static readonly Lazy<RedisMetrics> s_shared = new(() => new RedisMetrics(new Meter(MeterName)));
    private static readonly KeyValuePair<string, object?> s_ok = new("parley.request.outcome", "ok");
    private static readonly KeyValuePair<string, object?> s_timeout = new("parley.request.outcome", "timeout");
    private static readonly KeyValuePair<string, object?> s_commands = new("parley.redis.connection", "commands");
    private static readonly KeyValuePair<string, object?> s_subscriber = new("parley.redis.connection", "subscriber");

    private readonly Meter _meter;
    private readonly ConcurrentDictionary<RedisConnections, byte> _connections = new();
    private readonly Counter<long> _publishes;
    private readonly Counter<long> _publishFailures;
    private readonly Counter<long> _receives;
    private readonly Counter<long> _receiveBytes;
    private readonly Histogram<double> _requestDuration;

    /// <summary>Creates the meter through <paramref name="meterFactory"/> (what <c>AddRedis</c> does).</summary>
    public RedisMetrics(IMeterFactory meterFactory)
        : this((meterFactory ?? throw new ArgumentNullException(nameof(meterFactory))).Create(MeterName))
    {
    }

    private RedisMetrics(Meter meter)
    {
        _meter = meter;
        _publishes = meter.CreateCounter<long>("parley.redis.adapter.publishes", "{message}",
            "Messages the adapter published on Redis (broadcasts, requests and responses).");
        _publishFailures = meter.CreateCounter<long>("parley.redis.adapter.publish.failures", "{message}",
            "Publishes Redis refused or that failed while Redis was down (the other nodes missed them).");
        _receives = meter.CreateCounter<long>("parley.redis.adapter.receives", "{message}",
            "Messages received on the adapter's subscriptions (including this node's own broadcasts, which it skips).");
        _receiveBytes = meter.CreateCounter<long>("parley.redis.adapter.receive.bytes", "By",
            "Bytes of the messages received on the adapter's subscriptions.");
        _requestDuration = meter.CreateHistogram("parley.redis.adapter.request.duration", "s",
            "How long cluster requests (fetchSockets, serverSideEmit with acks) waited for the other nodes, by outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        meter.CreateObservableGauge("parley.redis.connection.state", ObserveConnections, "1",
            "1 when the connection to Redis is up, 0 when it is down, by connection (commands, subscriber).");
        meter.CreateObservableGauge("parley.redis.adapter.ready", ObserveReady, "1",
            "1 when broadcasts reach the other nodes (both connections up, subscriptions confirmed), else 0.");
    }

    /// <summary>The instance used by connections not created through <c>AddRedis</c>.</summary>
    internal static RedisMetrics Shared => s_shared.Value;

    /// <summary>The meter.</summary>
    public Meter Meter => _meter;

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();

    internal void Observe(RedisConnections connections) => _connections.TryAdd(connections, 0);

    internal void Forget(RedisConnections connections) => _connections.TryRemove(connections, out _);

    private IEnumerable<Measurement<int>> ObserveConnections()
    {
        foreach (var connections in _connections.Keys)
        {
            yield return new Measurement<int>(connections.IsConnected ? 1 : 0, s_commands);
            yield return new Measurement<int>(connections.SubscriptionsConnected ? 1 : 0, s_subscriber);
        }
    }

    private IEnumerable<Measurement<int>> ObserveReady()
    {
        foreach (var connections in _connections.Keys)
        {
            yield return new Measurement<int>(connections.IsReady ? 1 : 0);
        }
    }

    internal void Published() => _publishes.Add(1);

    internal void PublishFailed() => _publishFailures.Add(1);

    internal void Received(int bytes)
    {
        _receives.Add(1);
        _receiveBytes.Add(bytes);
    }

    /// <summary>A request that waited for the other nodes ended after <paramref name="elapsed"/>.</summary>
    internal void RequestEnded(TimeSpan elapsed, bool timedOut)
    {
        if (_requestDuration.Enabled)
        {
            _requestDuration.Record(elapsed.TotalSeconds, timedOut ? s_timeout : s_ok);
        }
    }
}

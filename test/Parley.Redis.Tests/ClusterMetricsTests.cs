using Microsoft.Extensions.DependencyInjection;
using Parley.Diagnostics;
using Parley.Testing;

namespace Parley.Redis.Tests;

/// <summary>
/// The <c>Parley</c> and <c>Parley.Redis</c> meters across two Parley nodes on one Redis, with socket.io-client
/// connected to both: a broadcast is counted on each node with that node's deliveries, publishes and receives are
/// counted where they happen, a cluster request's latency is recorded, and the connection gauges follow Redis going
/// away. Each node's meters come from its own host's IMeterFactory, so the nodes' numbers never mix.
/// </summary>
public sealed class ClusterMetricsTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Both_nodes_measure_a_cross_node_broadcast_requests_and_the_Redis_connection(bool sharded)
    {
        // A Redis of its own: the test kills it at the end.
        await using var redis = await RedisServer.StartAsync();
        await using var a = await ParleyNode.StartAsync(redis.Url, sharded);
        await using var b = await ParleyNode.StartAsync(redis.Url, sharded);
        await using var clients = NodeDriver.Start();
        await Wait.ForServerCountAsync(() => a.Io.Sockets.Adapter.ServerCountAsync(), 2);
        await Wait.ForServerCountAsync(() => b.Io.Sockets.Adapter.ServerCountAsync(), 2);

        using var parleyA = new MetricRecorder(a.Host.Services.GetRequiredService<ParleyMetrics>().Meter);
        using var parleyB = new MetricRecorder(b.Host.Services.GetRequiredService<ParleyMetrics>().Meter);
        using var redisA = new MetricRecorder(a.Host.Services.GetRequiredService<RedisMetrics>().Meter);
        using var redisB = new MetricRecorder(b.Host.Services.GetRequiredService<RedisMetrics>().Meter);

        var a1 = await clients.ConnectAsync(a.Url, ["r"]);
        var b1 = await clients.ConnectAsync(b.Url, ["r"]);
        var b2 = await clients.ConnectAsync(b.Url, ["r"]);
        await parleyB.WaitAsync(m => m.Sum("parley.engineio.connections", ("engineio.transport", "websocket")) == 2, "B's two connections");
        await parleyA.WaitAsync(m => m.Sum("parley.engineio.connections", ("engineio.transport", "websocket")) == 1, "A's connection");
        if (sharded)
        {
            await Wait.ForRoomChannelAsync(redis, "r", 2);
        }

        // One broadcast from A: A delivers to its client, B to its two, each counting one broadcast.
        var publishedBefore = redisA.Sum("parley.redis.adapter.publishes");
        await a.Io.To("r").EmitAsync("news", "hello").WithTimeout();
        foreach (var client in new[] { a1, b1, b2 })
        {
            await clients.ExpectNextAsync(client.Handle, "news");
        }
        Assert.Equal(1, parleyA.Sum("parley.socketio.broadcasts"));
        Assert.Equal(1, parleyA.Sum("parley.socketio.broadcast.deliveries"));
        await parleyB.WaitAsync(m => m.Sum("parley.socketio.broadcasts") == 1 && m.Sum("parley.socketio.broadcast.deliveries") == 2, "B's share of the broadcast");
        Assert.Equal(publishedBefore + 1, redisA.Sum("parley.redis.adapter.publishes"));
        Assert.True(redisB.Sum("parley.redis.adapter.receives") >= 1);
        Assert.True(redisB.Sum("parley.redis.adapter.receive.bytes") > 0);

        // A cluster request: B answers, A records how long it waited.
        var sockets = await a.Io.FetchSocketsAsync().WithTimeout();
        Assert.Equal(3, sockets.Count);
        Assert.Equal(1, redisA.Count("parley.redis.adapter.request.duration", ("parley.request.outcome", "ok")));
        Assert.InRange(redisA.Values("parley.redis.adapter.request.duration").Single(), 0, 3);

        // The connection gauges: up, then down once Redis is gone; a broadcast then fails to reach Redis.
        redisA.Observe();
        Assert.Equal(1, redisA.Sum("parley.redis.connection.state", ("parley.redis.connection", "commands")));
        Assert.Equal(1, redisA.Sum("parley.redis.connection.state", ("parley.redis.connection", "subscriber")));
        Assert.Equal(1, redisA.Sum("parley.redis.adapter.ready"));
        await redis.KillAsync();
        await redisA.WaitAsync(m => m.Sum("parley.redis.connection.state", ("parley.redis.connection", "commands")) == 0 && m.Sum("parley.redis.adapter.ready") == 0, "A sees Redis down");
        await a.Io.EmitAsync("lost").WithTimeout();
        await redisA.WaitAsync(m => m.Sum("parley.redis.adapter.publish.failures") >= 1, "a failed publish");

        Assert.Equal(
            new[]
            {
                "parley.redis.adapter.publish.failures", "parley.redis.adapter.publishes", "parley.redis.adapter.ready",
                "parley.redis.adapter.receive.bytes", "parley.redis.adapter.receives", "parley.redis.adapter.request.duration",
                "parley.redis.connection.state",
            }.Order(),
            redisA.Instruments.Order());
    }
}

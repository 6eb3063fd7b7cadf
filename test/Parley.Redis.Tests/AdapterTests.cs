using System.Text.RegularExpressions;
using Parley.Testing;

namespace Parley.Redis.Tests;

/// <summary>One node's adapter against a Redis of the class's own.</summary>
public abstract class AdapterTests(RedisServer redis, bool sharded)
{
    [Fact]
    public async Task Server_count_is_cached_on_the_server_clock()
    {
        var clock = new ManualClock();
        await using var a = await ParleyNode.StartAsync(redis.Url, sharded, time: clock);
        Assert.Equal(1, await a.Io.Sockets.Adapter.ServerCountAsync().WithTimeout());
        await using var b = await ParleyNode.StartAsync(redis.Url, sharded);
        await Wait.ForServerCountAsync(() => b.Io.Sockets.Adapter.ServerCountAsync(), 2);
        // Longer than ServerCountCacheDuration (1 s) on the wall clock, but A's clock stood still: A still has its count.
        await Task.Delay(1500).WithTimeout();
        Assert.Equal(1, await a.Io.Sockets.Adapter.ServerCountAsync().WithTimeout());
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, await a.Io.Sockets.Adapter.ServerCountAsync().WithTimeout());
    }

    [Fact]
    public async Task A_server_with_a_dynamic_namespace_is_ready_and_its_children_subscribe()
    {
        // io.Of(Regex) makes a parent namespace; it gets an adapter that is never initialised, only its children's are.
        await using var node = await ParleyNode.StartAsync(redis.Url, sharded, configureServer: io => io.Of(new Regex("^/dyn-[0-9]+$")).OnConnection(_ => { }));
        Assert.True(node.Status.IsReady);

        await using var clients = NodeDriver.Start();
        await clients.ConnectAsync(node.Url + "/dyn-1", []);
        await node.Status.WaitUntilReadyAsync().WithTimeout();
        var channel = sharded ? "socket.io#/dyn-1#" : "socket.io-request#/dyn-1#";
        Assert.Equal("1", (await redis.CliAsync("PUBSUB", sharded ? "SHARDNUMSUB" : "NUMSUB", channel)).Split('\n')[^1]);
    }

    /// <summary>Timestamps move only when told to; the wall clock and timers are the system's.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}

public sealed class ClassicAdapterTests(RedisServer redis) : AdapterTests(redis, sharded: false), IClassFixture<RedisServer>;

public sealed class ShardedAdapterTests(RedisServer redis) : AdapterTests(redis, sharded: true), IClassFixture<RedisServer>;

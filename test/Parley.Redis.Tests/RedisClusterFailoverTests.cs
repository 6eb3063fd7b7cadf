using System.Collections.Concurrent;
using System.Diagnostics;
using Parley.Testing;
using Xunit.Abstractions;

namespace Parley.Redis.Tests;

/// <summary>
/// A primary killed with SIGKILL while two Parley nodes broadcast across it: a replica takes over, StackExchange.Redis
/// follows (the new slot map of a Redis Cluster, or Sentinel's <c>+switch-master</c>), cross-node broadcasts resume,
/// no node crashes and no broadcast arrives twice. The killed server is restarted and rejoins as a replica, so a
/// shared deployment is whole again for the next class.
/// </summary>
public abstract class FailoverTests(IRedisDeployment deployment, bool sharded, ITestOutputHelper output)
{
    /// <summary>Whether the nodes run the sharded adapter.</summary>
    protected bool Sharded { get; } = sharded;

    /// <summary>The primary to kill: the one serving the namespace's channel.</summary>
    protected abstract Task<RedisServer> VictimAsync();

    /// <summary>
    /// Whether broadcasts keep their order through the failover itself. Classic pub/sub on a Redis Cluster does not
    /// promise it: while the slot owner is down, PUBLISH moves between nodes, and a message sent over the cluster bus
    /// can arrive after a later one published on the subscriber's own node. Order then holds before the kill and
    /// after the promotion, each checked on its own.
    /// </summary>
    protected virtual bool OrderedAcrossFailover => true;

    /// <summary>Waits until a server other than <paramref name="victim"/> is primary for the namespace's channel.</summary>
    protected abstract Task WaitUntilPromotedAsync(RedisServer victim);

    /// <summary>Waits until the restarted victim is back as a replica and the deployment is healthy.</summary>
    protected abstract Task WaitUntilHealthyAsync();

    [Fact]
    public async Task A_primary_killed_under_traffic_fails_over_and_broadcasts_resume()
    {
        await using var a = await ParleyNode.StartAsync(deployment.Url, Sharded);
        await using var b = await ParleyNode.StartAsync(deployment.Url, Sharded);
        await using var clients = NodeDriver.Start();
        await Wait.ForServerCountAsync(() => a.Io.Sockets.Adapter.ServerCountAsync(), 2);
        var b1 = await clients.ConnectAsync(b.Url, ["t"]);

        var received = new ConcurrentQueue<(long Seq, TimeSpan At)>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        long seq = 0;
        var ticker = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                // Never waits on Redis: a failed PUBLISH is logged and dropped.
                await a.Io.EmitAsync("tick", Interlocked.Increment(ref seq)).WithTimeout();
                await Task.Delay(20, CancellationToken.None);
            }
        });
        var reader = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var (name, args) = await clients.NextAnyEventAsync(b1.Handle, TimeSpan.FromMilliseconds(500));
                    if (name == "tick")
                    {
                        received.Enqueue((args[0]!.GetValue<long>(), clock.Elapsed));
                    }
                }
                catch (TimeoutException)
                {
                }
            }
        });
        RedisServer? victim = null;
        long afterKill = 0, afterPromotion = 0;
        try
        {
            await TestTimeouts.Eventually(() => !received.IsEmpty, because: "cross-node ticks before the fault");
            victim = await VictimAsync();
            var killedAt = clock.Elapsed;
            afterKill = Interlocked.Read(ref seq) + 1;
            await victim.KillAsync();
            output.WriteLine($"killed after tick {afterKill - 1}");

            await TestTimeouts.Eventually(() => received.Any(r => r.Seq > afterKill + 10), TimeSpan.FromSeconds(60), "cross-node ticks after the failover");
            var resumed = received.First(r => r.Seq > afterKill + 10).At - killedAt;
            output.WriteLine($"{(Sharded ? "sharded" : "classic")}: cross-node broadcasts resumed {resumed.TotalSeconds:F1} s after the primary was killed");
            Assert.True(resumed < TimeSpan.FromSeconds(45), $"resumed after {resumed}");

            // Broadcasts may resume before the promotion (a publish can go to a replica, which its subscribers
            // hear); those published once a replica is primary must arrive too.
            await WaitUntilPromotedAsync(victim);
            afterPromotion = Interlocked.Read(ref seq) + 1;
            output.WriteLine($"promotion seen {(clock.Elapsed - killedAt).TotalSeconds:F1} s after the kill");
            await TestTimeouts.Eventually(() => received.Any(r => r.Seq > afterPromotion + 10), TimeSpan.FromSeconds(60), "cross-node ticks after the promotion");
            output.WriteLine($"ticks published after the promotion arrive {(received.First(r => r.Seq > afterPromotion + 10).At - killedAt).TotalSeconds:F1} s after the kill");
        }
        catch when (victim is { IsRunning: false })
        {
            // Made whole even when this test fails, so the next class on a shared deployment is not hit too.
            await victim.RestartAsync();
            await WaitUntilHealthyAsync();
            throw;
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(ticker, reader).WithTimeout();
        }

        // Nothing delivered twice (publishes are never retried), and in order.
        var seqs = received.Select(r => r.Seq).ToList();
        Assert.Equal(seqs.Count, seqs.Distinct().Count());
        if (OrderedAcrossFailover)
        {
            Assert.Equal(seqs.Order(), seqs);
        }
        else
        {
            var before = seqs.Where(s => s < afterKill).ToList();
            var after = seqs.Where(s => s >= afterPromotion).ToList();
            Assert.Equal(before.Order(), before);
            Assert.Equal(after.Order(), after);
        }

        // Nobody crashed: a new client on A gets a broadcast from B.
        var a2 = await clients.ConnectAsync(a.Url, ["late"]);
        if (Sharded)
        {
            await Wait.ForRoomChannelAsync(deployment, "late", 1);
        }
        await b.Io.To("late").EmitAsync("welcome").WithTimeout();
        await clients.NextSocketEventAsync(a2.Handle, "welcome");

        // Made whole for the next test: the killed server comes back as a replica.
        await victim.RestartAsync();
        await WaitUntilHealthyAsync();
    }
}

/// <summary>On the Redis Cluster (cluster-node-timeout 2 s).</summary>
public abstract class RedisClusterFailoverTests(RedisCluster cluster, bool sharded, ITestOutputHelper output) : FailoverTests(cluster, sharded, output)
{
    // The primary serving the namespace channel (the sharded adapter's; the classic one's broadcasts are
    // cluster-wide, but its subscriptions sit on slot owners too).
    protected override async Task<RedisServer> VictimAsync() => await cluster.PrimaryOfSlotAsync(await cluster.SlotOfAsync("socket.io#/#"));

    // SPUBLISH only ever goes to the shard's primary; classic PUBLISH moves between nodes while it is down.
    protected override bool OrderedAcrossFailover => Sharded;

    protected override Task WaitUntilPromotedAsync(RedisServer victim) =>
        TestTimeouts.Eventually(async () => await VictimAsync() != victim, TimeSpan.FromSeconds(60), "a replica is promoted");

    protected override Task WaitUntilHealthyAsync() => cluster.WaitUntilHealthyAsync();
}

[Collection(RedisClusterCollection.Name)]
public sealed class ClassicRedisClusterFailoverTests(RedisCluster cluster, ITestOutputHelper output) : RedisClusterFailoverTests(cluster, sharded: false, output);

[Collection(RedisClusterCollection.Name)]
public sealed class ShardedRedisClusterFailoverTests(RedisCluster cluster, ITestOutputHelper output) : RedisClusterFailoverTests(cluster, sharded: true, output);


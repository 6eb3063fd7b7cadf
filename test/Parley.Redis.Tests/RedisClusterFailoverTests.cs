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

    protected ITestOutputHelper Output { get; } = output;

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

    /// <summary>What the nodes need beyond the URL (a private CA to trust).</summary>
    protected virtual void ConfigureAdapter(RedisAdapterOptions options)
    {
    }

    [Fact]
    public async Task A_primary_killed_under_traffic_fails_over_and_broadcasts_resume()
    {
        await using var a = await ParleyNode.StartAsync(deployment.Url, Sharded, ConfigureAdapter);
        await using var b = await ParleyNode.StartAsync(deployment.Url, Sharded, ConfigureAdapter);
        await using var clients = NodeDriver.Start();
        await Wait.ForServerCountAsync(() => a.Io.Sockets.Adapter.ServerCountAsync(), 2);
        var b1 = await clients.ConnectAsync(b.Url, ["t"]);

        var ticks = Ticks.Start(a, clients, b1.Handle);
        var received = ticks.Received;
        RedisServer? victim = null;
        long afterKill = 0, afterPromotion = 0;
        try
        {
            await TestTimeouts.Eventually(() => !received.IsEmpty, because: "cross-node ticks before the fault");
            victim = await VictimAsync();
            var killedAt = ticks.Elapsed;
            afterKill = ticks.Last + 1;
            await victim.KillAsync();
            Output.WriteLine($"killed after tick {afterKill - 1}");

            await TestTimeouts.Eventually(() => received.Any(r => r.Seq > afterKill + 10), TimeSpan.FromSeconds(60), "cross-node ticks after the failover");
            var resumed = received.First(r => r.Seq > afterKill + 10).At - killedAt;
            Output.WriteLine($"{(Sharded ? "sharded" : "classic")}: cross-node broadcasts resumed {resumed.TotalSeconds:F1} s after the primary was killed");
            Assert.True(resumed < TimeSpan.FromSeconds(45), $"resumed after {resumed}");

            // Broadcasts may resume before the promotion (a publish can go to a replica, which its subscribers
            // hear); those published once a replica is primary must arrive too.
            await WaitUntilPromotedAsync(victim);
            afterPromotion = ticks.Last + 1;
            Output.WriteLine($"promotion seen {(ticks.Elapsed - killedAt).TotalSeconds:F1} s after the kill");
            await TestTimeouts.Eventually(() => received.Any(r => r.Seq > afterPromotion + 10), TimeSpan.FromSeconds(60), "cross-node ticks after the promotion");
            Output.WriteLine($"ticks published after the promotion arrive {(received.First(r => r.Seq > afterPromotion + 10).At - killedAt).TotalSeconds:F1} s after the kill");
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
            await ticks.StopAsync();
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

    /// <summary>
    /// The namespace channel's slot moved to another primary while A broadcasts to B (CLUSTER SETSLOT IMPORTING /
    /// MIGRATING, MIGRATE of its keys, SETSLOT NODE on every primary, as <c>redis-cli --cluster reshard</c> does):
    /// the old owner drops its shard subscribers (-sunsubscribe) and answers SPUBLISH with MOVED; both nodes
    /// subscribe again at the new owner and broadcasts resume. Redis pub/sub is at most once: messages published
    /// during the move may be lost, none arrive twice or out of order. The slot is moved back afterwards.
    /// </summary>
    [Fact]
    public async Task The_namespace_slot_migrated_under_traffic_is_followed()
    {
        const string channel = "socket.io#/#";
        await using var a = await ParleyNode.StartAsync(cluster.Url, Sharded);
        await using var b = await ParleyNode.StartAsync(cluster.Url, Sharded);
        await using var clients = NodeDriver.Start();
        await Wait.ForServerCountAsync(() => a.Io.Sockets.Adapter.ServerCountAsync(), 2);
        var b1 = await clients.ConnectAsync(b.Url, ["t"]);
        var slot = await cluster.SlotOfAsync(channel);
        var source = await cluster.PrimaryOfSlotAsync(slot);
        var target = (await cluster.PrimariesAsync()).First(p => p != source);

        var ticks = Ticks.Start(a, clients, b1.Handle);
        long afterMove;
        try
        {
            await TestTimeouts.Eventually(() => !ticks.Received.IsEmpty, because: "cross-node ticks before the move");
            var movedAt = ticks.Elapsed;
            await MoveSlotAsync(slot, source, target);
            afterMove = ticks.Last + 1;
            await TestTimeouts.Eventually(() => ticks.Received.Any(r => r.Seq > afterMove + 10), TimeSpan.FromSeconds(60), "cross-node ticks after the move");
            Output.WriteLine($"{(Sharded ? "sharded" : "classic")}: ticks published after the move arrive {(ticks.Received.First(r => r.Seq > afterMove + 10).At - movedAt).TotalSeconds:F1} s after it began");
            if (Sharded)
            {
                // Both nodes' subscriptions followed the slot.
                await TestTimeouts.Eventually(async () => await target.ShardSubscribersAsync(channel) == 2, because: "both nodes subscribed at the new owner");
                Assert.Equal(0, await source.ShardSubscribersAsync(channel));
            }
        }
        finally
        {
            await ticks.StopAsync();
        }
        var seqs = ticks.Received.Select(r => r.Seq).ToList();
        Output.WriteLine($"{seqs.Count} of {ticks.Last} ticks arrived (some published before the client's first may be missed too)");
        Assert.Equal(seqs.Count, seqs.Distinct().Count());
        if (Sharded)
        {
            Assert.Equal(seqs.Order(), seqs);
        }
        else
        {
            var after = seqs.Where(s => s >= afterMove).ToList();
            Assert.Equal(after.Order(), after);
        }

        await MoveSlotAsync(slot, target, source);
        await cluster.WaitUntilHealthyAsync();
    }

    private async Task MoveSlotAsync(int slot, RedisServer from, RedisServer to)
    {
        var s = slot.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var fromId = await from.CliAsync("CLUSTER", "MYID");
        var toId = await to.CliAsync("CLUSTER", "MYID");
        Assert.StartsWith("OK", await to.CliAsync("CLUSTER", "SETSLOT", s, "IMPORTING", fromId));
        Assert.StartsWith("OK", await from.CliAsync("CLUSTER", "SETSLOT", s, "MIGRATING", toId));
        foreach (var key in (await from.CliAsync("CLUSTER", "GETKEYSINSLOT", s, "1000")).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            await from.CliAsync("MIGRATE", "127.0.0.1", to.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), key, "0", "5000");
        }
        foreach (var primary in new[] { to, from }.Concat((await cluster.PrimariesAsync()).Where(p => p != to && p != from)))
        {
            Assert.StartsWith("OK", await primary.CliAsync("CLUSTER", "SETSLOT", s, "NODE", toId));
        }
        await TestTimeouts.Eventually(async () => await cluster.PrimaryOfSlotAsync(slot) == to, because: "every node sees the new owner");
    }
}

[Collection(RedisClusterCollection.Name)]
public sealed class ClassicRedisClusterFailoverTests(RedisCluster cluster, ITestOutputHelper output) : RedisClusterFailoverTests(cluster, sharded: false, output);

[Collection(RedisClusterCollection.Name)]
public sealed class ShardedRedisClusterFailoverTests(RedisCluster cluster, ITestOutputHelper output) : RedisClusterFailoverTests(cluster, sharded: true, output);


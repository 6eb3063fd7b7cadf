using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Parley.Testing;

namespace Parley.Redis.Tests;

/// <summary>
/// Redis killed or hung under cross-node traffic between two Parley nodes and a Node socket.io peer. Each test owns
/// its redis-server, because it kills or stops it.
/// </summary>
public abstract class FaultTests(bool sharded)
{
    /// <summary>Everything a client received: (event, first argument) in arrival order, with the arrival time.</summary>
    private sealed class ClientInbox
    {
        private readonly ConcurrentQueue<(string Event, long Seq, TimeSpan At)> _events = new();
        private readonly Task _loop;

        public ClientInbox(NodeDriver driver, string handle, Stopwatch clock, CancellationToken stop) =>
            _loop = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        var (name, args) = await driver.NextAnyEventAsync(handle, TimeSpan.FromMilliseconds(500));
                        _events.Enqueue((name, args.Count > 0 && args[0] is { } a ? a.GetValue<long>() : -1, clock.Elapsed));
                    }
                    catch (TimeoutException)
                    {
                    }
                }
            });

        /// <summary>Events <paramref name="name"/> that were emitted at or after <paramref name="since"/> (seq order matches emit time).</summary>
        public int CountSince(string name, long firstSeq) => _events.Count(e => e.Event == name && e.Seq >= firstSeq);

        public TimeSpan? FirstArrivalSince(string name, long firstSeq) =>
            _events.Where(e => e.Event == name && e.Seq >= firstSeq).Select(e => (TimeSpan?)e.At).FirstOrDefault();

        public Task Stopped => _loop;
    }

    /// <summary>A node emitting <c>name(seq)</c> to everyone every 20 ms, timing each emit call.</summary>
    private sealed class Ticker
    {
        private long _seq;
        private long _slowestTicks;

        public Ticker(ParleyNode node, string name, CancellationToken stop) =>
            Loop = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var started = Stopwatch.GetTimestamp();
                    await node.Io.EmitAsync(name, Interlocked.Increment(ref _seq)).WithTimeout();
                    var took = Stopwatch.GetElapsedTime(started).Ticks;
                    if (took > Interlocked.Read(ref _slowestTicks))
                    {
                        Interlocked.Exchange(ref _slowestTicks, took);
                    }
                    await Task.Delay(20, CancellationToken.None);
                }
            });

        public Task Loop { get; }

        /// <summary>The seq the next emit will carry.</summary>
        public long Next => Interlocked.Read(ref _seq) + 1;

        public TimeSpan Slowest => TimeSpan.FromTicks(Interlocked.Read(ref _slowestTicks));
    }

    private static void Faster(RedisAdapterOptions o)
    {
        // The defaults scaled down (PING every 2 s, 5 s timeout) so a hang is noticed within the test's patience:
        // StackExchange.Redis drops a connection that read nothing for 4 timeouts while commands time out.
        var c = o.Configuration!;
        c.KeepAlive = 1;
        c.HeartbeatInterval = TimeSpan.FromMilliseconds(250);
        c.AsyncTimeout = 1000;
        c.SyncTimeout = 1000;
        c.ConnectTimeout = 1000;
    }

    [Fact]
    public Task Redis_killed_under_traffic_then_restarted() => RunAsync(hang: false);

    [Fact]
    public Task Redis_stopped_under_traffic_then_resumed() => RunAsync(hang: true);

    private async Task RunAsync(bool hang)
    {
        await using var redis = await RedisServer.StartAsync();
        var port = redis.Port.ToString(CultureInfo.InvariantCulture);
        await using var a = await ParleyNode.StartAsync(redis.Url, sharded, Faster);
        await using var b = await ParleyNode.StartAsync(redis.Url, sharded, Faster);
        await using var n = await NodePeer.StartAsync(redis.Url, sharded);
        await using var clients = NodeDriver.Start();
        await Wait.ForServerCountAsync(() => a.Io.Sockets.Adapter.ServerCountAsync(), 3);
        await Wait.ForServerCountAsync(() => b.Io.Sockets.Adapter.ServerCountAsync(), 3);

        var a1 = await clients.ConnectAsync(a.Url, ["t"]);
        var b1 = await clients.ConnectAsync(b.Url, ["t"]);
        var n1 = await clients.ConnectAsync(n.Url, ["t"]);
        await clients.CallAsync("sio.ackWith", new { h = a1.Handle, @event = "ask", reply = new object[] { "a1" } });
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var onA = new ClientInbox(clients, a1.Handle, clock, stop.Token);
        var onB = new ClientInbox(clients, b1.Handle, clock, stop.Token);
        var onN = new ClientInbox(clients, n1.Handle, clock, stop.Token);
        var tick = new Ticker(a, "tick", stop.Token);
        var tock = new Ticker(b, "tock", stop.Token);
        try
        {
            // Cross-node traffic flows every way.
            await TestTimeouts.Eventually(() => onB.CountSince("tick", 1) > 0 && onN.CountSince("tick", 1) > 0 && onA.CountSince("tock", 1) > 0, because: "cross-node traffic before the fault");

            var outageStart = tick.Next;
            var failuresBefore = PublishFailures(port);
            if (hang)
            {
                await redis.PauseAsync();
            }
            else
            {
                await redis.KillAsync();
            }
            try
            {
                if (hang)
                {
                    // Nothing resets the sockets: the PINGs notice, on the subscribers as on the command connections.
                    await TestTimeouts.Eventually(() => !a.Adapter.Connections.SubscriptionsConnected && !a.Adapter.Connections.IsConnected &&
                        !b.Adapter.Connections.SubscriptionsConnected && !b.Adapter.Connections.IsConnected, TimeSpan.FromSeconds(15), "the hang noticed");
                }
                else
                {
                    await TestTimeouts.Eventually(() => !a.Status.IsReady && !b.Status.IsReady, because: "the loss noticed");
                }

                // Redis known to be down: cluster calls answer at once, for this node alone.
                var started = Stopwatch.StartNew();
                var fetched = await a.Io.FetchSocketsAsync().WithTimeout();
                Assert.Equal([a1.Id], fetched.Select(s => s.Id));
                Assert.Empty(await a.Io.ServerSideEmitWithAckAsync("anyone", [], TimeSpan.FromSeconds(5)).WithTimeout());
                var answers = await a.Io.To("t").EmitWithAckAsync("ask", [1]).WithTimeout();
                Assert.Equal(["a1"], answers.Select(x => x.Element.GetString()));
                await a.Io.To("t").SocketsJoinAsync("t2").WithTimeout();
                Assert.Equal(1, await a.Io.Sockets.Adapter.ServerCountAsync().WithTimeout());
                // Any one of these would take RequestsTimeout (3 s) or the 5 s ack timeout if it waited for other nodes;
                // the rest of the bound is for the Node client's answer to "ask" on a loaded machine.
                Assert.True(started.Elapsed < TimeSpan.FromSeconds(2.8), $"cluster calls took {started.Elapsed} while Redis was down");

                // Local delivery goes on for a while; the queue to the dead Redis stays bounded.
                var maxPending = 0;
                var until = clock.Elapsed + TimeSpan.FromSeconds(2);
                while (clock.Elapsed < until)
                {
                    maxPending = Math.Max(maxPending, (int)a.Adapter.Connections.Outstanding);
                    await Task.Delay(50).WithTimeout();
                }
                Assert.InRange(maxPending, 0, 5_000);
                Assert.True(onA.CountSince("tick", outageStart) >= 20, $"only {onA.CountSince("tick", outageStart)} local ticks during the outage");
                Assert.True(!a.Status.IsReady && !b.Status.IsReady);
            }
            finally
            {
                if (hang)
                {
                    await redis.ResumeAsync();
                }
                else
                {
                    await redis.RestartAsync();
                }
            }
            var outageEnd = clock.Elapsed;
            var afterOutage = tick.Next;
            var tockAfter = tock.Next;

            // Failures were logged, at most about once a second per node (publishes were failing 50 times a second).
            var failures = PublishFailures(port) - failuresBefore;
            Assert.InRange(failures, 1, 2 * ((int)outageEnd.TotalSeconds + 2));

            // Subscriptions come back and cross-node broadcasts resume within seconds, every way.
            await TestTimeouts.Eventually(() => onB.CountSince("tick", afterOutage) > 0 && onN.CountSince("tick", afterOutage) > 0 && onA.CountSince("tock", tockAfter) > 0, because: "cross-node traffic after the outage");
            var resumed = new[] { onB.FirstArrivalSince("tick", afterOutage)!.Value, onN.FirstArrivalSince("tick", afterOutage)!.Value, onA.FirstArrivalSince("tock", tockAfter)!.Value }.Max() - outageEnd;
            Assert.True(resumed < TimeSpan.FromSeconds(8), $"cross-node broadcasts resumed {resumed} after Redis came back");
            await a.Status.WaitUntilReadyAsync().WithTimeout();
            await b.Status.WaitUntilReadyAsync().WithTimeout();
            // The Node peer's publishing client reconnects on its own schedule (node-redis: 2^retries * 50 ms, at most
            // 2 s, plus jitter), and its queue holds what was emitted meanwhile; emit again until both Parley nodes got
            // one. (node-redis before 5.11 could hang for good when a reconnect landed on the dying Redis: #3104.)
            var fromNode = Stopwatch.StartNew();
            var peerEvents = new List<string>();
            while (onA.CountSince("from-node", 1) == 0 || onB.CountSince("from-node", 1) == 0)
            {
                peerEvents.AddRange(n.Driver.Drain("peer").Select(e => e.Event + " " + e.Data?.ToJsonString()));
                Assert.True(fromNode.Elapsed < TestTimeouts.Default, $"the Node peer's broadcast did not reach both Parley nodes (a: {onA.CountSince("from-node", 1)}, " +
                    $"b: {onB.CountSince("from-node", 1)}); peer events: {string.Join("; ", peerEvents)}; peer stderr: {n.Driver.Stderr}");
                await n.CallAsync("emit", new { @event = "from-node", args = new[] { 1 } });
                await Task.Delay(500).WithTimeout();
            }
            // No emit call waited on Redis: one that did would take the 1 s command timeout (the margin is for a loaded machine).
            Assert.True(tick.Slowest < TimeSpan.FromMilliseconds(750) && tock.Slowest < TimeSpan.FromMilliseconds(750), $"slowest emit calls: {tick.Slowest}, {tock.Slowest}");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(tick.Loop, tock.Loop, onA.Stopped, onB.Stopped, onN.Stopped).WithTimeout();
        }

        // Nobody crashed: both nodes take new clients and carry a broadcast across.
        await Wait.ForServerCountAsync(() => a.Io.Sockets.Adapter.ServerCountAsync(), 3);
        var late = await clients.ConnectAsync(b.Url, ["late"]);
        if (sharded)
        {
            await Wait.ForRoomChannelAsync(redis, "late", 1);
        }
        await a.Io.To("late").EmitAsync("welcome").WithTimeout();
        await clients.NextSocketEventAsync(late.Handle, "welcome");
    }

    private static int PublishFailures(string port) =>
        TestLog.Provider.Entries.Count(e => e.EventId.Id == 5003 && e.Message.Contains(":" + port + "/", StringComparison.Ordinal));

    [Fact]
    public async Task Readiness_and_health_follow_the_connections()
    {
        await using var redis = await RedisServer.StartAsync();
        await redis.StopAsync();
        // A node may start while Redis is down: it serves its own sockets and reports not ready.
        await using var node = await ParleyNode.StartAsync(redis.Url, sharded, Faster, waitUntilReady: false);
        // ParleyNode registers AddHealthChecks().AddParleyRedis(failureStatus: Degraded).
        var health = node.Host.Services.GetRequiredService<HealthCheckService>();
        Assert.False(node.Status.IsReady);
        var report = await health.CheckHealthAsync().WithTimeout();
        Assert.Equal(HealthStatus.Degraded, report.Status);
        Assert.Contains(redis.Port.ToString(CultureInfo.InvariantCulture), report.Entries["parley-redis"].Description, StringComparison.Ordinal);

        await redis.RestartAsync();
        await node.Status.WaitUntilReadyAsync().WithTimeout();
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync().WithTimeout()).Status);
        // Ready means subscribed: the channel peers count nodes on counts this one.
        Assert.Equal("1", (await redis.CliAsync("PUBSUB", sharded ? "SHARDNUMSUB" : "NUMSUB", sharded ? "socket.io#/#" : "socket.io-request#/#")).Split('\n')[^1]);

        await redis.KillAsync();
        await TestTimeouts.Eventually(() => !node.Status.IsReady);
        Assert.Equal(HealthStatus.Degraded, (await health.CheckHealthAsync().WithTimeout()).Status);
        await TestTimeouts.Eventually(() => TestLog.Provider.Entries.Any(e => e.Level == LogLevel.Error && e.EventId.Id == 5002 && e.Message.Contains(":" + redis.Port.ToString(CultureInfo.InvariantCulture) + "/", StringComparison.Ordinal)), because: "the loss logged");
    }
}

public sealed class ClassicFaultTests() : FaultTests(sharded: false);

public sealed class ShardedFaultTests() : FaultTests(sharded: true);

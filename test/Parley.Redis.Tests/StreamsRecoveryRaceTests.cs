using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Parley.Diagnostics;
using Parley.Testing;

namespace Parley.Redis.Tests;

/// <summary>
/// Connection state recovery across nodes while broadcasts keep flowing: the clients of a node that stops gracefully
/// come back to the other node, which is broadcasting all along, and each must end with every broadcast it was sent
/// exactly once and in order. A restore reads the stream (XRANGE) and only then joins the socket's rooms; a broadcast
/// published in between reached the socket neither way, and one on both paths reached it twice (the chaos run's lost
/// and duplicated messages). The interleaving is real: several emitters on the surviving node keep the stream busy
/// while a dozen restores run at once, so some publish falls between a restore's read and its joins.
/// </summary>
public sealed class StreamsRecoveryRaceTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private const int ClientCount = 12;
    private const int Emitters = 3;
    private NodeDriver _clients = null!;

    public Task InitializeAsync()
    {
        _clients = NodeDriver.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _clients.DisposeAsync();

    private Task<ParleyNode> StartParleyAsync(string stream) =>
        ParleyNode.StartAsync(redis.Url, sharded: false, streams: o => o.StreamName = stream,
            parley: o => o.ConnectionStateRecovery = new ConnectionStateRecoveryOptions());

    /// <summary>
    /// <paramref name="bothBroadcast"/>: node A broadcasts too until it stops, so its clients get A's packets and B's
    /// interleaved. A node that delivered its own packets right after publishing them would send one ahead of an
    /// older one of the other node's that it had not read yet: the offsets a client sees would go backwards, and a
    /// client dropping between the two would recover from the wrong one.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Clients_of_a_stopped_node_get_every_broadcast_once_and_in_order_while_the_other_node_broadcasts(bool bothBroadcast)
    {
        var stream = "race-" + bothBroadcast;
        var a = await StartParleyAsync(stream);
        await using var b = await StartParleyAsync(stream);
        await Wait.ForServerCountAsync(() => b.Io.Sockets.Adapter.ServerCountAsync(), 2);
        var handles = new List<string>();
        for (var i = 0; i < ClientCount; i++)
        {
            handles.Add((await _clients.ConnectAsync(a.Url, ["room"])).Handle);
        }
        var log = new ClientLog(_clients, handles);

        using var stop = new CancellationTokenSource();
        using var stopA = new CancellationTokenSource();
        var total = bothBroadcast ? 2 * Emitters : Emitters;
        var acked = new int[total];
        // Emitters 0.. on B for the whole test; with bothBroadcast, the next ones on A until A stops.
        var emitters = StartEmitters(acked, e => e < Emitters ? (b, stop.Token) : (a, stopA.Token));

        // Every client has an offset (it got something through the stream) before its node goes.
        await log.WaitAsync(c => c.Messages.Count > 0, "every client receives a broadcast on A");
        if (bothBroadcast)
        {
            await TestTimeouts.Eventually(() => acked.Skip(Emitters).All(n => n >= 200), because: "A broadcasts a while");
            await stopA.CancelAsync();
            await Task.WhenAll(emitters.Skip(Emitters)).WithTimeout();
        }
        using var metrics = new MetricRecorder(b.Host.Services.GetRequiredService<ParleyMetrics>().Meter);
        await a.DisposeAsync(); // graceful: "server shutting down" persists every session first
        await log.WaitAsync(c => c.Disconnects == 1, "every client sees A go");
        await RecoverAndCheckAsync(log, b, metrics, acked, stop, emitters);
    }

    /// <summary>
    /// Clients that dropped from a Node node (<c>@socket.io/redis-streams-adapter</c> 0.3.1 persisted their sessions)
    /// recover on a Parley node that is broadcasting all along.
    /// </summary>
    [Fact]
    public async Task Clients_that_drop_from_a_Node_node_recover_on_Parley_with_every_broadcast_once_and_in_order()
    {
        await using var p = await ParleyNode.StartAsync(redis.Url, sharded: false, streams: _ => { },
            parley: o => o.ConnectionStateRecovery = new ConnectionStateRecoveryOptions());
        await using var n = await NodePeer.StartAsync(redis.Url, sharded: false, streams: true, recovery: true);
        await Wait.ForServerCountAsync(() => p.Io.Sockets.Adapter.ServerCountAsync(), 2);
        await Wait.ForServerCountAsync(async () => (await n.CallAsync("serverCount"))!.GetValue<int>(), 2);
        var handles = new List<string>();
        for (var i = 0; i < ClientCount; i++)
        {
            handles.Add((await _clients.ConnectAsync(n.Url, ["room"])).Handle);
        }
        var log = new ClientLog(_clients, handles);
        using var stop = new CancellationTokenSource();
        var acked = new int[Emitters];
        var emitters = StartEmitters(acked, e => p, stop.Token);
        await log.WaitAsync(c => c.Messages.Count > 0, "every client receives a broadcast on Node");

        using var metrics = new MetricRecorder(p.Host.Services.GetRequiredService<ParleyMetrics>().Meter);
        var sessions = await SessionCountAsync();
        foreach (var h in handles)
        {
            await _clients.CallAsync("sio.closeEngine", new { h }); // "transport close": Node persists the session
        }
        await log.WaitAsync(c => c.Disconnects == 1, "every client drops");
        await TestTimeouts.Eventually(async () => await SessionCountAsync() >= sessions + ClientCount, because: "Node writes the sessions");
        await RecoverAndCheckAsync(log, p, metrics, acked, stop, emitters);
    }

    private async Task<int> SessionCountAsync() =>
        (await redis.CliAsync("KEYS", "sio:session:*")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;

    /// <summary>
    /// Emitters <c>e</c> = 0, 1, … broadcast <c>m [e, n]</c> with n = 1, 2, … from <paramref name="node"/>(e) until
    /// <paramref name="until"/>(e); <paramref name="acked"/>[e] is the last one whose emit completed.
    /// </summary>
    private static Task[] StartEmitters(int[] acked, Func<int, ParleyNode> node, CancellationToken until) =>
        StartEmitters(acked, e => (node(e), until));

    private static Task[] StartEmitters(int[] acked, Func<int, (ParleyNode Node, CancellationToken Until)> of) =>
        [.. Enumerable.Range(0, acked.Length).Select(e => Task.Run(async () =>
        {
            var (node, until) = of(e);
            // Paced (1 ms), not flat out: the point is a steady flow across the restores, not a flood of the driver.
            for (var n = 1; !until.IsCancellationRequested; n++)
            {
                await node.Io.To("room").EmitAsync("m", e, n).WithTimeout();
                Volatile.Write(ref acked[e], n);
                await Task.Delay(1, CancellationToken.None);
            }
        }))];

    /// <summary>
    /// Sends the dropped clients to <paramref name="target"/>, where they must recover; lets the emitters go on a while,
    /// stops them, and checks that every client has every acknowledged broadcast once, with offsets that only grow.
    /// </summary>
    private async Task RecoverAndCheckAsync(ClientLog log, ParleyNode target, MetricRecorder metrics, int[] acked, CancellationTokenSource stop, Task[] emitters)
    {
        var total = acked.Length;
        foreach (var client in log.Clients)
        {
            await _clients.CallAsync("sio.reconnectTo", new { h = client.Handle, url = target.Url });
        }
        await log.WaitAsync(c => c.Recovered is not null, "every client connects again");
        Assert.All(log.Clients, c => Assert.True(c.Recovered, "recovered"));
        Assert.Equal(ClientCount, metrics.Sum("parley.socketio.recovery.attempts", ("parley.recovery.result", "recovered")));

        // A while longer, then the flow stops and each client must have everything that was acknowledged.
        var after = acked.Sum() + 300;
        await TestTimeouts.Eventually(() => acked.Sum() >= after, because: "the emitters go on after the restores");
        await stop.CancelAsync();
        await Task.WhenAll(emitters).WithTimeout();
        await log.WaitAsync(c => Enumerable.Range(0, total).All(e => c.Last(e) >= acked[e]), "every client gets the last acknowledged broadcasts", TimeSpan.FromSeconds(60));

        foreach (var client in log.Clients)
        {
            for (var e = 0; e < total; e++)
            {
                var got = client.Messages.Where(m => m.Emitter == e).Select(m => m.N).ToArray();
                Assert.True(got.SequenceEqual(Enumerable.Range(1, acked[e])),
                    $"client {client.Handle}, emitter {e}: expected 1..{acked[e]} once each, in order; missing [{string.Join(",", Enumerable.Range(1, acked[e]).Except(got))}], " +
                    $"duplicated [{string.Join(",", got.GroupBy(n => n).Where(g => g.Count() > 1).Select(g => g.Key))}]");
            }
            // And in the stream's order across emitters: every offset after the one before.
            for (var i = 1; i < client.Messages.Count; i++)
            {
                Assert.True(StreamIdLess(client.Messages[i - 1].Offset, client.Messages[i].Offset),
                    $"client {client.Handle}: offset {client.Messages[i].Offset} after {client.Messages[i - 1].Offset}");
            }
        }
    }

    internal static bool StreamIdLess(string x, string y)
    {
        static (ulong, ulong) Parse(string id)
        {
            var dash = id.IndexOf('-', StringComparison.Ordinal);
            return (ulong.Parse(id.AsSpan(0, dash), CultureInfo.InvariantCulture), ulong.Parse(id.AsSpan(dash + 1), CultureInfo.InvariantCulture));
        }
        return Parse(x).CompareTo(Parse(y)) < 0;
    }

    /// <summary>What each client saw, in order: its "m" broadcasts (emitter, number, offset), disconnects, its last connect.</summary>
    internal sealed class ClientLog(NodeDriver driver, IReadOnlyList<string> handles)
    {
        public IReadOnlyList<ClientEvents> Clients { get; } = [.. handles.Select(h => new ClientEvents(h))];

        public Task WaitAsync(Func<ClientEvents, bool> condition, string because, TimeSpan? timeout = null) =>
            TestTimeouts.Eventually(() =>
            {
                foreach (var client in Clients)
                {
                    client.Take(driver.Drain(client.Handle));
                }
                return Clients.All(condition);
            }, timeout, because);
    }

    internal sealed class ClientEvents(string handle)
    {
        private readonly ConcurrentDictionary<int, int> _last = new();

        public string Handle { get; } = handle;

        public List<(int Emitter, int N, string Offset)> Messages { get; } = [];

        public int Disconnects { get; private set; }

        public bool? Recovered { get; private set; }

        public int Last(int emitter) => _last.GetValueOrDefault(emitter);

        public void Take(List<DriverEvent> events)
        {
            foreach (var e in events)
            {
                switch (e.Event)
                {
                    case "event" when e.Data!["name"]!.GetValue<string>() == "m":
                        var args = e.Data["args"]!.AsArray();
                        var emitter = args[0]!.GetValue<int>();
                        var n = args[1]!.GetValue<int>();
                        Messages.Add((emitter, n, args[2]!.GetValue<string>()));
                        _last.AddOrUpdate(emitter, n, (_, last) => Math.Max(last, n));
                        break;
                    case "disconnect":
                        Disconnects++;
                        break;
                    case "connect" when Disconnects > 0:
                        Recovered = e.Data!["recovered"]!.GetValue<bool>();
                        break;
                }
            }
        }
    }
}

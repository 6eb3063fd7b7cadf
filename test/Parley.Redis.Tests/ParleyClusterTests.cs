using System.Text.Json;
using Parley.Testing;

namespace Parley.Redis.Tests;

/// <summary>
/// Two Parley nodes on one Redis or on a Redis Cluster (3 primaries, 3 replicas: the sharded adapter's channels then
/// live on different shards), clients (socket.io-client) on each: every adapter feature across nodes.
/// </summary>
public abstract class ParleyClusterTests(IRedisDeployment redis, bool sharded, bool streams = false) : IAsyncLifetime
{
    private ParleyNode _a = null!;
    private ParleyNode _b = null!;
    private NodeDriver _clients = null!;

    public async Task InitializeAsync()
    {
        _a = await ParleyNode.StartAsync(redis.Url, sharded, streams: streams ? _ => { } : null);
        _b = await ParleyNode.StartAsync(redis.Url, sharded, streams: streams ? _ => { } : null);
        _clients = NodeDriver.Start();
        await Wait.ForServerCountAsync(() => _a.Io.Sockets.Adapter.ServerCountAsync(), 2);
        await Wait.ForServerCountAsync(() => _b.Io.Sockets.Adapter.ServerCountAsync(), 2);
    }

    public async Task DisposeAsync()
    {
        await _clients.DisposeAsync();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    /// <summary>Sharded dynamic mode subscribes room channels asynchronously on join; wait until B's room is visible.</summary>
    private async Task RoomReadyAsync(string room, int nodes = 1)
    {
        if (sharded)
        {
            await Wait.ForRoomChannelAsync(redis, room, nodes);
        }
    }

    [Fact]
    public async Task RoomBroadcastsCrossNodesWithExceptAndLocal()
    {
        var a1 = await _clients.ConnectAsync(_a.Url, ["r"]);
        var b1 = await _clients.ConnectAsync(_b.Url, ["r"]);
        var b2 = await _clients.ConnectAsync(_b.Url, ["r", "x"]);
        var b3 = await _clients.ConnectAsync(_b.Url, ["other"]);
        await RoomReadyAsync("r", 2);
        await RoomReadyAsync("other");

        await _a.Io.To("r").Except("x").EmitAsync("hello", "world", 1.5).WithTimeout();
        Assert.Equal("[\"world\",1.5]", (await _clients.ExpectNextAsync(a1.Handle, "hello")).ToJsonString());
        Assert.Equal("[\"world\",1.5]", (await _clients.ExpectNextAsync(b1.Handle, "hello")).ToJsonString());

        await _a.Io.Local.To("r").EmitAsync("local-only").WithTimeout();
        await _a.Io.To("r").EmitAsync("marker").WithTimeout();
        await _clients.ExpectNextAsync(a1.Handle, "local-only");
        await _clients.ExpectNextAsync(a1.Handle, "marker");
        await _clients.ExpectNextAsync(b1.Handle, "marker"); // not local-only
        await _clients.ExpectNextAsync(b2.Handle, "marker"); // not hello (except x)

        // Broadcast to everyone, to several rooms, and to a socket id on the other node.
        await _b.Io.To(["r", "other"]).EmitAsync("multi").WithTimeout();
        foreach (var c in new[] { a1, b1, b2, b3 })
        {
            await _clients.ExpectNextAsync(c.Handle, "multi");
        }
        await _a.Io.To(b3.Id).EmitAsync("direct", new { n = 1 }).WithTimeout();
        Assert.Equal("[{\"n\":1}]", (await _clients.ExpectNextAsync(b3.Handle, "direct")).ToJsonString());
        await _a.Io.EmitAsync("all").WithTimeout();
        foreach (var c in new[] { a1, b1, b2, b3 })
        {
            await _clients.ExpectNextAsync(c.Handle, "all");
        }
    }

    [Fact]
    public async Task BinaryArgumentsCrossNodes()
    {
        var b1 = await _clients.ConnectAsync(_b.Url, ["bin"]);
        await RoomReadyAsync("bin");
        await _a.Io.To("bin").EmitAsync("file", new byte[] { 1, 2, 3 }, new { nested = new byte[] { 4, 5 } }, "text").WithTimeout();
        var args = await _clients.ExpectNextAsync(b1.Handle, "file");
        Assert.Equal([1, 2, 3], DriverBinary.Unwrap(args[0]));
        Assert.Equal([4, 5], DriverBinary.Unwrap(args[1]!["nested"]));
        Assert.Equal("text", args[2]!.GetValue<string>());
    }

    [Fact]
    public async Task BroadcastWithAcksCollectsEveryNodesClients()
    {
        var a1 = await _clients.ConnectAsync(_a.Url, ["acks"]);
        var b1 = await _clients.ConnectAsync(_b.Url, ["acks"]);
        var b2 = await _clients.ConnectAsync(_b.Url, ["acks"]);
        foreach (var (h, name) in new[] { (a1.Handle, "a1"), (b1.Handle, "b1"), (b2.Handle, "b2") })
        {
            await _clients.CallAsync("sio.ackWith", new { h, @event = "ask", reply = new object[] { name } });
        }
        var answers = await _a.Io.To("acks").Timeout(TimeSpan.FromSeconds(5)).EmitWithAckAsync("ask", [7]).WithTimeout();
        Assert.Equal(["a1", "b1", "b2"], answers.Select(a => a.Element.GetString()).Order());

        // A client that does not answer makes it time out, and the node serving it drops the pending ack then.
        var b3 = await _clients.ConnectAsync(_b.Url, ["acks"]);
        await Assert.ThrowsAsync<TimeoutException>(() => _a.Io.To("acks").Timeout(TimeSpan.FromMilliseconds(500)).EmitWithAckAsync("ask", []).WithTimeout());
        var silent = _b.Io.Sockets.Sockets[b3.Id];
        await TestTimeouts.Eventually(() => silent.PendingAckCount == 0, because: "node b drops the ack at the broadcast's timeout");

        // Without a Timeout the wait is bounded by RequestsTimeout (3 s here) on both nodes, so a silent client
        // does not keep another node's ack for as long as it stays connected (socket.io #5442).
        await Assert.ThrowsAsync<TimeoutException>(() => _a.Io.To(b3.Id).EmitWithAckAsync("ask", []).WithTimeout());
        await TestTimeouts.Eventually(() => silent.PendingAckCount == 0, because: "node b drops the ack at RequestsTimeout");
    }

    [Fact]
    public async Task FetchSocketsReturnsRemoteSocketsThatCanBeDrivenFromAfar()
    {
        var a1 = await _clients.ConnectAsync(_a.Url, ["f"], new { name = "ann" });
        var b1 = await _clients.ConnectAsync(_b.Url, ["f", "g"], new { name = "bob" });

        var sockets = await _a.Io.To("f").FetchSocketsAsync().WithTimeout();
        Assert.Equal(new[] { a1.Id, b1.Id }.Order(), sockets.Select(s => s.Id).Order());
        var remote = sockets.Single(s => s.Id == b1.Id);
        Assert.Null(remote.LocalSocket);
        Assert.Equal("bob", remote.Data.GetProperty("name").GetString());
        Assert.Equal(new[] { b1.Id, "f", "g" }.Order(), remote.Rooms.Order());
        Assert.Equal("4", remote.Handshake.Query["EIO"]);
        Assert.Equal("websocket", remote.Handshake.Query["transport"]);
        Assert.True(remote.Handshake.Issued > 0);
        Assert.Equal("127.0.0.1", remote.Handshake.Headers["host"].Split(':')[0]);

        await remote.EmitAsync("to-you", 1).WithTimeout();
        await _clients.ExpectNextAsync(b1.Handle, "to-you");

        await remote.JoinAsync("joined").WithTimeout();
        await TestTimeouts.Eventually(() => _b.Io.Sockets.Sockets[b1.Id].Rooms.Contains("joined"));
        await remote.LeaveAsync("g").WithTimeout();
        await TestTimeouts.Eventually(() => !_b.Io.Sockets.Sockets[b1.Id].Rooms.Contains("g"));

        await remote.DisconnectAsync().WithTimeout();
        var reason = await _clients.NextEventAsync(b1.Handle, "disconnect");
        Assert.Equal("io server disconnect", reason!["reason"]!.GetValue<string>());
        Assert.Single(await _a.Io.To("f").FetchSocketsAsync().WithTimeout());
    }

    [Fact]
    public async Task SocketsJoinLeaveAndDisconnectAcrossNodes()
    {
        var a1 = await _clients.ConnectAsync(_a.Url, ["s1"]);
        var b1 = await _clients.ConnectAsync(_b.Url, ["s1"]);
        var b2 = await _clients.ConnectAsync(_b.Url, ["s2"]);

        await _a.Io.To("s1").SocketsJoinAsync("s3").WithTimeout();
        await TestTimeouts.Eventually(() => _b.Io.Sockets.Sockets[b1.Id].Rooms.Contains("s3") && _a.Io.Sockets.Sockets[a1.Id].Rooms.Contains("s3"));
        Assert.DoesNotContain("s3", _b.Io.Sockets.Sockets[b2.Id].Rooms);

        await _a.Io.To("s3").SocketsLeaveAsync("s1").WithTimeout();
        await TestTimeouts.Eventually(() => !_b.Io.Sockets.Sockets[b1.Id].Rooms.Contains("s1") && !_a.Io.Sockets.Sockets[a1.Id].Rooms.Contains("s1"));

        await _a.Io.To("s2").DisconnectSocketsAsync().WithTimeout();
        await _clients.NextEventAsync(b2.Handle, "disconnect");
        Assert.True(_b.Io.Sockets.Sockets.ContainsKey(b1.Id));
        Assert.Equal(2, (await _b.Io.FetchSocketsAsync().WithTimeout()).Count);
    }

    [Fact]
    public async Task ServerSideEmitWithAndWithoutAckAndServerCount()
    {
        _b.OnServer("ping", new { from = "B" });
        await _a.Io.ServerSideEmitAsync("ping", 1, "two").WithTimeout();
        var (name, args) = await _b.NextServerEventAsync();
        Assert.Equal(("ping", "[1,\"two\"]"), (name, args));

        var answers = await _a.Io.ServerSideEmitWithAckAsync("ping", [3], TimeSpan.FromSeconds(5)).WithTimeout();
        Assert.Equal("{\"from\":\"B\"}", Assert.Single(answers).GetRawText());

        Assert.Equal(2, await _a.Io.Sockets.Adapter.ServerCountAsync().WithTimeout());

        // Nobody answers "silent" on B: the request times out with socket.io's message.
        _b.OnServer("silent", null);
        _b.Io.On("silent", _ => Task.CompletedTask);
        var e = await Assert.ThrowsAsync<TimeoutException>(() => _a.Io.ServerSideEmitWithAckAsync("nobody-listens", [], TimeSpan.FromMilliseconds(300)).WithTimeout());
        Assert.Equal("timeout reached: only 0 responses received out of 1", e.Message);
    }

    [Fact]
    public async Task RapidJoinLeaveJoinKeepsReceivingRemoteBroadcasts()
    {
        var b1 = await _clients.ConnectAsync(_b.Url, []);
        var socket = _b.Io.Sockets.Sockets[b1.Id];
        var rooms = Enumerable.Range(0, 30).Select(i => "flip" + i).ToArray();
        foreach (var room in rooms)
        {
            // Two threads at once; each ends with a join, so whatever the interleaving the socket is in the room,
            // and in sharded dynamic mode the room's channel must be subscribed.
            using var start = new Barrier(2);
            await Task.WhenAll(
                Task.Run(() =>
                {
                    start.SignalAndWait();
                    socket.Join(room);
                    socket.Leave(room);
                    socket.Join(room);
                }),
                Task.Run(() =>
                {
                    start.SignalAndWait();
                    socket.Leave(room);
                    socket.Join(room);
                    socket.Leave(room);
                    socket.Join(room);
                })).WithTimeout();
            Assert.Contains(room, socket.Rooms);
        }
        if (sharded)
        {
            var subscribed = _b.Adapter.Connections.Channels;
            Assert.All(rooms, room => Assert.Contains("socket.io#/#" + room + "#", subscribed));
            foreach (var room in rooms)
            {
                await RoomReadyAsync(room);
            }
        }
        foreach (var room in rooms)
        {
            await _a.Io.To(room).EmitAsync("in", room).WithTimeout();
        }
        // Order is kept per channel (src/Parley.Redis/README.md "Order and slow handlers"). Classic rooms share one
        // pattern subscription, so one server delivers them in publish order; sharded rooms have a channel each, read
        // by a loop each, and a Redis Cluster spreads channels over shards: every room arrives, in no promised order.
        var arrived = new List<string>();
        foreach (var room in rooms)
        {
            arrived.Add((await _clients.ExpectNextAsync(b1.Handle, "in"))[0]!.GetValue<string>());
        }
        if (redis is RedisCluster || sharded)
        {
            Assert.Equal(rooms.Order(StringComparer.Ordinal), arrived.Order(StringComparer.Ordinal));
        }
        else
        {
            Assert.Equal(rooms, arrived);
        }
    }

    [Fact]
    public async Task ABlockingServerSideHandlerDoesNotHoldUpBroadcastsOrRedisReads()
    {
        var b1 = await _clients.ConnectAsync(_b.Url, ["slow"]);
        await RoomReadyAsync("slow");
        using var release = new ManualResetEventSlim();
        var entered = new TaskCompletionSource();
        _b.Io.On("block", _ =>
        {
            entered.TrySetResult();
            release.Wait(TimeSpan.FromSeconds(60)); // synchronous on purpose: the worst a handler can do
            return Task.CompletedTask;
        });
        try
        {
            await _a.Io.ServerSideEmitAsync("block").WithTimeout();
            await entered.Task.WithTimeout();
            // Broadcasts published after the event still reach B's client, in order, while the handler blocks.
            for (var i = 0; i < 100; i++)
            {
                await _a.Io.To("slow").EmitAsync("seq", i).WithTimeout();
            }
            for (var i = 0; i < 100; i++)
            {
                Assert.Equal(i, (await _clients.ExpectNextAsync(b1.Handle, "seq"))[0]!.GetValue<int>());
            }
            Assert.True(_b.Status.IsReady);
        }
        finally
        {
            release.Set();
        }
    }

    [Fact]
    public async Task EmitWithAckWithoutTimeoutIsBoundedByRequestsTimeout()
    {
        var b1 = await _clients.ConnectAsync(_b.Url, ["mute"]);
        _ = b1; // never answers "ask"
        var started = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<TimeoutException>(() => _a.Io.To("mute").EmitWithAckAsync("ask", [])).WithTimeout();
        Assert.Equal("operation has timed out", e.Message);
        // ParleyNode sets RequestsTimeout to 3 s.
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(10));
    }
}


public sealed class ClassicParleyClusterTests(RedisServer redis) : ParleyClusterTests(redis, sharded: false), IClassFixture<RedisServer>;

public sealed class ShardedParleyClusterTests(RedisServer redis) : ParleyClusterTests(redis, sharded: true), IClassFixture<RedisServer>;

[CollectionDefinition(Name)]
public sealed class RedisClusterCollection : ICollectionFixture<RedisCluster>
{
    public const string Name = "redis-cluster";
}

[Collection(RedisClusterCollection.Name)]
public sealed class ClassicParleyOnRedisClusterTests(RedisCluster cluster) : ParleyClusterTests(cluster, sharded: false);

[Collection(RedisClusterCollection.Name)]
public sealed class ShardedParleyOnRedisClusterTests(RedisCluster cluster) : ParleyClusterTests(cluster, sharded: true);

using System.Text.Json.Nodes;
using Parley.Testing;

namespace Parley.Redis.Tests;

/// <summary>
/// A Parley node and a Node socket.io 4.8 + @socket.io/redis-adapter 8.3 process (test/js/redis-peer.mjs) on one
/// Redis: each feature exercised from each side.
/// </summary>
public abstract class MixedClusterTests(IRedisDeployment redis, bool sharded, bool streams = false) : IAsyncLifetime
{
    private ParleyNode _p = null!;
    private NodePeer _n = null!;
    private NodeDriver _clients = null!;

    public async Task InitializeAsync()
    {
        _p = await ParleyNode.StartAsync(redis.Url, sharded, namespaces: ["/chat"], streams: streams ? _ => { } : null);
        _n = await NodePeer.StartAsync(redis.Url, sharded, namespaces: ["/chat"], streams: streams, cluster: redis is RedisCluster);
        _clients = NodeDriver.Start();
        await Wait.ForServerCountAsync(() => _p.Io.Sockets.Adapter.ServerCountAsync(), 2);
        await Wait.ForServerCountAsync(async () => (await _n.CallAsync("serverCount"))!.GetValue<int>(), 2);
    }

    public async Task DisposeAsync()
    {
        await _clients.DisposeAsync();
        await _n.DisposeAsync();
        await _p.DisposeAsync();
    }

    private async Task RoomReadyAsync(string room, int nodes, string nsp = "/", string prefix = "socket.io")
    {
        if (sharded)
        {
            await Wait.ForRoomChannelAsync(redis, room, nodes, nsp, prefix);
        }
    }

    [Fact]
    public async Task BroadcastsCrossBothWaysWithRoomsExceptLocalAndBinary()
    {
        var p1 = await _clients.ConnectAsync(_p.Url, ["m"]);
        var n1 = await _clients.ConnectAsync(_n.Url, ["m"]);
        var n2 = await _clients.ConnectAsync(_n.Url, ["m", "x"]);
        await RoomReadyAsync("m", 2);

        // Parley → Node
        await _p.Io.To("m").Except("x").EmitAsync("from-parley", "w", new { a = 1 }, new byte[] { 1, 2, 3 }, 2.5).WithTimeout();
        var args = await _clients.ExpectNextAsync(n1.Handle, "from-parley");
        Assert.Equal("w", args[0]!.GetValue<string>());
        Assert.Equal("{\"a\":1}", args[1]!.ToJsonString());
        Assert.Equal([1, 2, 3], DriverBinary.Unwrap(args[2]));
        Assert.Equal(2.5, args[3]!.GetValue<double>());
        await _clients.ExpectNextAsync(p1.Handle, "from-parley");
        await _p.Io.Local.EmitAsync("parley-local").WithTimeout();
        await _p.Io.EmitAsync("marker1").WithTimeout();
        await _clients.ExpectNextAsync(n2.Handle, "marker1");
        await _clients.ExpectNextAsync(n1.Handle, "marker1");
        await _clients.ExpectNextAsync(p1.Handle, "parley-local");
        await _clients.ExpectNextAsync(p1.Handle, "marker1");

        // Node → Parley
        await _n.CallAsync("emit", new { rooms = new[] { "m" }, except = new[] { "x" }, @event = "from-node", args = new JsonNode[] { DriverBinary.Wrap([9, 8]), new JsonObject { ["k"] = "v" } } });
        args = await _clients.ExpectNextAsync(p1.Handle, "from-node");
        Assert.Equal([9, 8], DriverBinary.Unwrap(args[0]));
        Assert.Equal("v", args[1]!["k"]!.GetValue<string>());
        await _clients.ExpectNextAsync(n1.Handle, "from-node");
        await _n.CallAsync("emit", new { local = true, @event = "node-local" });
        await _n.CallAsync("emit", new { @event = "marker2" });
        await _clients.ExpectNextAsync(p1.Handle, "marker2"); // not node-local
        await _clients.ExpectNextAsync(n2.Handle, "node-local");
        await _clients.ExpectNextAsync(n2.Handle, "marker2");

        // Node → a Parley socket id
        await _n.CallAsync("emit", new { rooms = new[] { p1.Id }, @event = "direct" });
        await _clients.ExpectNextAsync(p1.Handle, "direct");
    }

    [Fact]
    public async Task BroadcastWithAcksBothWays()
    {
        var p1 = await _clients.ConnectAsync(_p.Url, ["k"]);
        var n1 = await _clients.ConnectAsync(_n.Url, ["k"]);
        await _clients.CallAsync("sio.ackWith", new { h = p1.Handle, @event = "ask", reply = new object[] { "from-p1" } });
        await _clients.CallAsync("sio.ackWith", new { h = n1.Handle, @event = "ask", reply = new object[] { "from-n1" } });

        var answers = await _p.Io.To("k").Timeout(TimeSpan.FromSeconds(5)).EmitWithAckAsync("ask", [1]).WithTimeout();
        Assert.Equal(["from-n1", "from-p1"], answers.Select(a => a.Element.GetString()).Order());

        var fromNode = (await _n.CallAsync("emitWithAck", new { rooms = new[] { "k" }, @event = "ask", args = new[] { 2 }, timeout = 5000 }))!.AsArray();
        Assert.Equal(["from-n1", "from-p1"], fromNode.Select(a => a!.GetValue<string>()).Order());
    }

    [Fact]
    public async Task FetchSocketsAndRemoteSocketsBothWays()
    {
        var p1 = await _clients.ConnectAsync(_p.Url, ["f"], new { name = "parley-client" });
        var n1 = await _clients.ConnectAsync(_n.Url, ["f"], new { name = "node-client" });

        // Parley fetches the Node socket and drives it.
        var sockets = await _p.Io.To("f").FetchSocketsAsync().WithTimeout();
        var remote = sockets.Single(s => s.Id == n1.Id);
        Assert.Equal("node-client", remote.Data.GetProperty("name").GetString());
        Assert.Contains("f", remote.Rooms);
        Assert.Equal("websocket", remote.Handshake.Query["transport"]);
        Assert.Equal("node-client", remote.Handshake.Auth.GetProperty("data").GetProperty("name").GetString());
        await remote.EmitAsync("hi-node").WithTimeout();
        await _clients.ExpectNextAsync(n1.Handle, "hi-node");
        await remote.JoinAsync("joined-from-parley").WithTimeout();
        await TestTimeouts.Eventually(() => Rooms(n1.Id).Contains("joined-from-parley"));

        // Node fetches the Parley socket and drives it.
        var fromNode = (await _n.CallAsync("fetchSockets", new { rooms = new[] { "f" } }))!.AsArray();
        var parleySocket = fromNode.Single(s => s!["id"]!.GetValue<string>() == p1.Id)!;
        Assert.Equal("parley-client", parleySocket["data"]!["name"]!.GetValue<string>());
        Assert.Contains("f", parleySocket["rooms"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Equal("4", parleySocket["handshake"]!["query"]!["EIO"]!.GetValue<string>());
        await _n.CallAsync("remoteEmit", new { sid = p1.Id, @event = "hi-parley", args = new[] { 1 } });
        await _clients.ExpectNextAsync(p1.Handle, "hi-parley");
        await _n.CallAsync("remoteJoin", new { sid = p1.Id, room = "joined-from-node" });
        await TestTimeouts.Eventually(() => _p.Io.Sockets.Sockets[p1.Id].Rooms.Contains("joined-from-node"));
        await _n.CallAsync("remoteLeave", new { sid = p1.Id, room = "f" });
        await TestTimeouts.Eventually(() => !_p.Io.Sockets.Sockets[p1.Id].Rooms.Contains("f"));
        await _n.CallAsync("remoteDisconnect", new { sid = p1.Id });
        await _clients.NextEventAsync(p1.Handle, "disconnect");

        await remote.DisconnectAsync().WithTimeout();
        await _clients.NextEventAsync(n1.Handle, "disconnect");
    }

    private string[] Rooms(string nodeSocketId)
    {
        var local = _n.CallAsync("localSockets").WithTimeout().GetAwaiter().GetResult()!.AsArray();
        var s = local.SingleOrDefault(x => x!["id"]!.GetValue<string>() == nodeSocketId);
        return s is null ? [] : s["rooms"]!.AsArray().Select(r => r!.GetValue<string>()).ToArray();
    }

    [Fact]
    public async Task SocketsJoinLeaveDisconnectBothWays()
    {
        var p1 = await _clients.ConnectAsync(_p.Url, ["j"]);
        var n1 = await _clients.ConnectAsync(_n.Url, ["j"]);

        await _p.Io.To("j").SocketsJoinAsync("j2").WithTimeout();
        await TestTimeouts.Eventually(() => Rooms(n1.Id).Contains("j2"));
        await _n.CallAsync("socketsLeave", new { rooms = new[] { "j2" }, leave = new[] { "j" } });
        await TestTimeouts.Eventually(() => !_p.Io.Sockets.Sockets[p1.Id].Rooms.Contains("j"));
        await _n.CallAsync("socketsJoin", new { rooms = new[] { "j2" }, join = new[] { "from-node" } });
        await TestTimeouts.Eventually(() => _p.Io.Sockets.Sockets[p1.Id].Rooms.Contains("from-node"));
        await _p.Io.To("j2").SocketsLeaveAsync("from-node").WithTimeout();
        await TestTimeouts.Eventually(() => !Rooms(n1.Id).Contains("from-node"));

        await _n.CallAsync("disconnectSockets", new { rooms = new[] { p1.Id } });
        await _clients.NextEventAsync(p1.Handle, "disconnect");
        await _p.Io.DisconnectSocketsAsync().WithTimeout();
        await _clients.NextEventAsync(n1.Handle, "disconnect");
    }

    [Fact]
    public async Task ServerSideEmitBothWaysAndServerCount()
    {
        // Parley → Node, without and with ack
        await _n.CallAsync("serverOn", new { @event = "to-node", reply = new { from = "node" } });
        await _p.Io.ServerSideEmitAsync("to-node", 1, "a").WithTimeout();
        var received = await _n.Driver.NextEventAsync("peer", "serverSideEmit");
        Assert.Equal("[1,\"a\"]", received!["args"]!.ToJsonString());
        var answers = await _p.Io.ServerSideEmitWithAckAsync("to-node", [2], TimeSpan.FromSeconds(5)).WithTimeout();
        Assert.Equal("{\"from\":\"node\"}", Assert.Single(answers).GetRawText());

        // Node → Parley, without and with ack
        _p.OnServer("to-parley", new { from = "parley" });
        await _n.CallAsync("serverSideEmit", new { @event = "to-parley", args = new object[] { "x", 3 } });
        Assert.Equal(("to-parley", "[\"x\",3]"), await _p.NextServerEventAsync());
        var fromNode = (await _n.CallAsync("serverSideEmitWithAck", new { @event = "to-parley", args = new[] { 4 } }))!.AsArray();
        Assert.Equal("[{\"from\":\"parley\"}]", fromNode.ToJsonString());

        Assert.Equal(2, await _p.Io.Sockets.Adapter.ServerCountAsync().WithTimeout());
        Assert.Equal(2, (await _n.CallAsync("serverCount"))!.GetValue<int>());
    }

    [Fact]
    public async Task VolatileAndCompressFlagsCrossBothWays()
    {
        var p1 = await _clients.ConnectAsync(_p.Url, ["v"]);
        var n1 = await _clients.ConnectAsync(_n.Url, ["v"]);
        await RoomReadyAsync("v", 2);

        await _p.Io.To("v").Volatile.Compress(false).EmitAsync("flags-from-parley", 1).WithTimeout();
        Assert.Equal(1, (await _clients.ExpectNextAsync(n1.Handle, "flags-from-parley"))[0]!.GetValue<int>());
        await _clients.ExpectNextAsync(p1.Handle, "flags-from-parley");

        await _n.CallAsync("emit", new { rooms = new[] { "v" }, @volatile = true, compress = false, @event = "flags-from-node", args = new[] { 2 } });
        Assert.Equal(2, (await _clients.ExpectNextAsync(p1.Handle, "flags-from-node"))[0]!.GetValue<int>());
        await _clients.ExpectNextAsync(n1.Handle, "flags-from-node");
    }

    [Fact]
    public async Task AckTimeoutsAcrossNodesBothWays()
    {
        var p1 = await _clients.ConnectAsync(_p.Url, ["late"]);
        var n1 = await _clients.ConnectAsync(_n.Url, ["late"]);
        await _clients.CallAsync("sio.ackWith", new { h = p1.Handle, @event = "ask", reply = new object[] { "p1" } });
        // n1 never answers: Parley's broadcast with acks times out although its own client answered.
        var e = await Assert.ThrowsAsync<TimeoutException>(() => _p.Io.To("late").Timeout(TimeSpan.FromMilliseconds(500)).EmitWithAckAsync("ask", []).WithTimeout());
        Assert.Equal("operation has timed out", e.Message);

        // The other way: n1 answers, the Parley client does not.
        await _clients.CallAsync("sio.ackWith", new { h = n1.Handle, @event = "ask2", reply = new object[] { "n1" } });
        var fromNode = await Assert.ThrowsAsync<NodeDriverException>(() => _n.CallAsync("emitWithAck", new { rooms = new[] { "late" }, @event = "ask2", timeout = 500 }));
        Assert.Contains("operation has timed out", fromNode.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BinaryInAcksAndServerSideEmitBothWays()
    {
        var p1 = await _clients.ConnectAsync(_p.Url, ["b"]);
        var n1 = await _clients.ConnectAsync(_n.Url, ["b"]);
        await _clients.CallAsync("sio.ackWith", new { h = p1.Handle, @event = "bin-ask", reply = new JsonNode[] { DriverBinary.Wrap([1, 1]) } });
        await _clients.CallAsync("sio.ackWith", new { h = n1.Handle, @event = "bin-ask", reply = new JsonNode[] { DriverBinary.Wrap([2, 2]) } });

        // Client acks carrying binary: the Node client's reaches Parley as a BROADCAST_ACK, and the reverse.
        var answers = await _p.Io.To("b").Timeout(TimeSpan.FromSeconds(5)).EmitWithAckAsync("bin-ask", []).WithTimeout();
        var bytes = answers.Select(a => a.TryGetBytes(out var b) ? Convert.ToHexString(b.Span) : "not binary").Order();
        Assert.Equal(["0101", "0202"], bytes);
        var fromNode = (await _n.CallAsync("emitWithAck", new { rooms = new[] { "b" }, @event = "bin-ask", timeout = 5000 }))!.AsArray();
        Assert.Equal(["0101", "0202"], fromNode.Select(a => Convert.ToHexString(DriverBinary.Unwrap(a)!)).Order());

        // serverSideEmit with binary arguments, and a binary ack from a Parley handler.
        await _n.CallAsync("serverOn", new { @event = "bin-to-node", reply = DriverBinary.Wrap([9]) });
        await _p.Io.ServerSideEmitAsync("bin-to-node", new byte[] { 3, 4 }, new { nested = new byte[] { 5 } }).WithTimeout();
        var received = await _n.Driver.NextEventAsync("peer", "serverSideEmit");
        Assert.Equal([3, 4], DriverBinary.Unwrap(received!["args"]![0]));
        Assert.Equal([5], DriverBinary.Unwrap(received["args"]![1]!["nested"]));

        var parleyGot = new TaskCompletionSource<string>();
        _p.Io.On("bin-to-parley", async e =>
        {
            parleyGot.TrySetResult(e.Arguments[0].TryGetBytes(out var b) ? "bin:" + Convert.ToHexString(b.Span) : "json:" + e.Arguments[0].Element.GetRawText());
            if (e.HasAck)
            {
                await e.AckAsync(new byte[] { 6, 6 }, "ignored: one argument per node");
            }
        });
        await _n.CallAsync("serverSideEmit", new { @event = "bin-to-parley", args = new JsonNode[] { DriverBinary.Wrap([7, 8]) } });
        // The classic adapter JSON.stringifies SERVER_SIDE_EMIT (index.ts serverSideEmit), so a Buffer from Node
        // arrives as Node's toJSON form; the sharded one sends msgpack when there is binary (cluster-adapter encode),
        // the streams one always (pub/sub messages are msgpack).
        Assert.Equal(sharded || streams ? "bin:0708" : "json:{\"type\":\"Buffer\",\"data\":[7,8]}", await parleyGot.Task.WithTimeout());
        var acked = (await _n.CallAsync("serverSideEmitWithAck", new { @event = "bin-to-parley", args = new JsonNode[] { DriverBinary.Wrap([7, 8]) } }))!.AsArray();
        Assert.Equal([6, 6], DriverBinary.Unwrap(Assert.Single(acked)));
    }

    /// <summary>A second namespace on the client's connection: it survives a namespace disconnect, not a closed connection.</summary>
    private async Task<string> OnSameConnectionAsync(string handle)
    {
        var chat = await _clients.CallForHandleAsync("sio.connectNamespace", new { h = handle, nsp = "/chat" });
        await _clients.NextEventAsync(chat, "connect");
        return chat;
    }

    [Fact]
    public async Task DisconnectSocketsWithCloseBothWays()
    {
        var p1 = await _clients.ConnectAsync(_p.Url, ["dc"]);
        var n1 = await _clients.ConnectAsync(_n.Url, ["dc"]);
        var n2 = await _clients.ConnectAsync(_n.Url, ["stay"]);
        var p1Chat = await OnSameConnectionAsync(p1.Handle);
        var n1Chat = await OnSameConnectionAsync(n1.Handle);

        // close = true ends the whole connection, so the other namespace on it is disconnected too (socket.io's
        // client._disconnect sends each namespace a DISCONNECT first, so the reason does not tell them apart);
        // with close = false it would stay connected.
        await _p.Io.To("dc").DisconnectSocketsAsync(close: true).WithTimeout();
        await _clients.NextEventAsync(n1.Handle, "disconnect");
        await _clients.NextEventAsync(n1Chat, "disconnect");
        await _clients.NextEventAsync(p1.Handle, "disconnect");
        await _clients.NextEventAsync(p1Chat, "disconnect");
        Assert.Single(Rooms(n2.Id), r => r == "stay");

        var p2 = await _clients.ConnectAsync(_p.Url, ["dc2"]);
        var p2Chat = await OnSameConnectionAsync(p2.Handle);
        await _n.CallAsync("disconnectSockets", new { rooms = new[] { "dc2" }, close = true });
        await _clients.NextEventAsync(p2.Handle, "disconnect");
        await _clients.NextEventAsync(p2Chat, "disconnect");
    }

    [Fact]
    public async Task ParleyMakesARemoteNodeSocketLeaveAndDisconnect()
    {
        var n1 = await _clients.ConnectAsync(_n.Url, ["l1", "l2"]);
        var n1Chat = await OnSameConnectionAsync(n1.Handle);
        var remote = (await _p.Io.To("l1").FetchSocketsAsync().WithTimeout()).Single(s => s.Id == n1.Id);
        await remote.LeaveAsync("l1").WithTimeout();
        await TestTimeouts.Eventually(() => !Rooms(n1.Id).Contains("l1"));
        Assert.Contains("l2", Rooms(n1.Id));
        await remote.DisconnectAsync(close: true).WithTimeout();
        await _clients.NextEventAsync(n1.Handle, "disconnect");
        await _clients.NextEventAsync(n1Chat, "disconnect");
    }

    [Fact]
    public async Task ANamespaceOtherThanTheMainOne()
    {
        var p1 = await _clients.ConnectAsync(_p.Url + "/chat", ["c"]);
        var n1 = await _clients.ConnectAsync(_n.Url + "/chat", ["c"]);
        var root = await _clients.ConnectAsync(_n.Url, ["c"]);
        await RoomReadyAsync("c", 2, nsp: "/chat");
        var chat = _p.Io.Of("/chat");
        Assert.Equal(2, await chat.Adapter.ServerCountAsync().WithTimeout());
        Assert.Equal(2, (await _n.CallAsync("serverCountOf", new { nsp = "/chat" }))!.GetValue<int>());

        await chat.To("c").EmitAsync("in-chat", "from-parley").WithTimeout();
        Assert.Equal("from-parley", (await _clients.ExpectNextAsync(n1.Handle, "in-chat"))[0]!.GetValue<string>());
        await _n.CallAsync("emit", new { nsp = "/chat", rooms = new[] { "c" }, @event = "in-chat", args = new[] { "from-node" } });
        await _clients.ExpectNextAsync(p1.Handle, "in-chat"); // its own node's broadcast first
        Assert.Equal("from-node", (await _clients.ExpectNextAsync(p1.Handle, "in-chat"))[0]!.GetValue<string>());

        // The main namespace's client in a room of the same name got none of it.
        await _p.Io.To("c").EmitAsync("in-root").WithTimeout();
        await _clients.ExpectNextAsync(root.Handle, "in-root");

        var sockets = await chat.FetchSocketsAsync().WithTimeout();
        Assert.Equal(new[] { p1.Id, n1.Id }.Order(), sockets.Select(s => s.Id).Order());
        var fromNode = (await _n.CallAsync("fetchSockets", new { nsp = "/chat" }))!.AsArray();
        Assert.Equal(new[] { p1.Id, n1.Id }.Order(), fromNode.Select(s => s!["id"]!.GetValue<string>()).Order());
    }

    [Fact]
    public async Task ACustomKeyPrefixKeepsAClusterApart()
    {
        const string Prefix = "px";
        await using var p = await ParleyNode.StartAsync(redis.Url, sharded, o => (o.Key, o.ChannelPrefix) = (Prefix, Prefix),
            streams: streams ? o => (o.StreamName, o.ChannelPrefix) = (Prefix, Prefix) : null);
        await using var n = await NodePeer.StartAsync(redis.Url, sharded, key: Prefix, streams: streams, cluster: redis is RedisCluster);
        await Wait.ForServerCountAsync(() => p.Io.Sockets.Adapter.ServerCountAsync(), 2);
        await Wait.ForServerCountAsync(async () => (await n.CallAsync("serverCount"))!.GetValue<int>(), 2);
        // The default-prefix pair does not see them.
        Assert.Equal(2, await _p.Io.Sockets.Adapter.ServerCountAsync().WithTimeout());
        Assert.Equal(2, sharded ? await redis.ShardSubscribersAsync("px#/#") : await redis.SubscribersAsync(streams ? "px#/#" : "px-request#/#"));

        var p1 = await _clients.ConnectAsync(p.Url, ["k"]);
        var n1 = await _clients.ConnectAsync(n.Url, ["k"]);
        var other = await _clients.ConnectAsync(_n.Url, ["k"]);
        await RoomReadyAsync("k", 2, prefix: Prefix);
        await p.Io.To("k").EmitAsync("prefixed", 1).WithTimeout();
        await _clients.ExpectNextAsync(n1.Handle, "prefixed");
        await n.CallAsync("emit", new { rooms = new[] { "k" }, @event = "prefixed", args = new[] { 2 } });
        await _clients.ExpectNextAsync(p1.Handle, "prefixed");
        Assert.Equal(2, (await _clients.ExpectNextAsync(p1.Handle, "prefixed"))[0]!.GetValue<int>());
        // A client of the default-prefix cluster in a room of the same name got neither.
        await _p.Io.EmitAsync("default-marker").WithTimeout();
        await _clients.ExpectNextAsync(other.Handle, "default-marker");
    }
}


public sealed class ClassicMixedClusterTests(RedisServer redis) : MixedClusterTests(redis, sharded: false), IClassFixture<RedisServer>;

public sealed class ShardedMixedClusterTests(RedisServer redis) : MixedClusterTests(redis, sharded: true), IClassFixture<RedisServer>;

/// <summary>
/// On the Redis Cluster (3 primaries, 3 replicas): Node's createShardedAdapter on an ioredis 5 Cluster client
/// (shardedSubscribers) and Parley's sharded adapter, every feature both ways, channels on different shards.
/// </summary>
[Collection(RedisClusterCollection.Name)]
public sealed class ShardedMixedOnRedisClusterTests(RedisCluster cluster) : MixedClusterTests(cluster, sharded: true);

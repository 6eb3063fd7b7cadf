using System.Text.Json.Nodes;
using Parley.Testing;

namespace Parley.Redis.Tests;

/// <summary>
/// A Parley node and a Node socket.io 4.8 + @socket.io/redis-adapter 8.3 process (test/js/redis-peer.mjs) on one
/// Redis: each feature exercised from each side.
/// </summary>
public abstract class MixedClusterTests(RedisServer redis, bool sharded) : IAsyncLifetime
{
    private ParleyNode _p = null!;
    private NodePeer _n = null!;
    private NodeDriver _clients = null!;

    public async Task InitializeAsync()
    {
        _p = await ParleyNode.StartAsync(redis.Url, sharded);
        _n = await NodePeer.StartAsync(redis.Url, sharded);
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

    private async Task RoomReadyAsync(string room, int nodes)
    {
        if (sharded)
        {
            await TestTimeouts.Eventually(() => redis.CliAsync("PUBSUB", "SHARDNUMSUB", "socket.io#/#" + room + "#").Result.EndsWith(nodes.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), because: "room channel subscribed");
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
}

public sealed class ClassicMixedClusterTests(RedisServer redis) : MixedClusterTests(redis, sharded: false), IClassFixture<RedisServer>;

public sealed class ShardedMixedClusterTests(RedisServer redis) : MixedClusterTests(redis, sharded: true), IClassFixture<RedisServer>;

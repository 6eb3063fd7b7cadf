using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Parley.Diagnostics;
using Parley.Testing;

namespace Parley.Redis.Tests;

/// <summary>The mixed-cluster suite with Node's <c>@socket.io/redis-streams-adapter</c> 0.3.1 on the other side.</summary>
public sealed class StreamsMixedClusterTests(RedisServer redis) : MixedClusterTests(redis, sharded: false, streams: true), IClassFixture<RedisServer>;

/// <summary>
/// Connection state recovery across nodes with the Redis Streams adapter and the official socket.io-client 4.8: the
/// client drops from one node and comes back to another (<c>sio.reconnectTo</c> points its Manager at the other
/// node, as a load balancer would), sending the private session id and last offset it has by itself. Parley to
/// Parley after the first node is stopped, Node to Parley and Parley to Node.
/// </summary>
public sealed class StreamsRecoveryTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly byte[] s_binary = [1, 2, 250];
    private readonly List<DriverEvent> _events = [];
    private NodeDriver _clients = null!;

    public Task InitializeAsync()
    {
        _clients = NodeDriver.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _clients.DisposeAsync();

    private static void Recovery(ParleyOptions o) => o.ConnectionStateRecovery = new ConnectionStateRecoveryOptions();

    private Task<ParleyNode> StartParleyAsync() => ParleyNode.StartAsync(redis.Url, sharded: false, streams: _ => { }, parley: Recovery);

    /// <summary>A packet through the stream first: the client needs an offset to come back with.</summary>
    private async Task ReceiveFirstPacketAsync(ParleyNode from, string handle)
    {
        await from.Io.To("room").EmitAsync("before", 0).WithTimeout();
        Assert.Equal(0, (await ExpectNextAsync(handle, "before"))[0]!.GetValue<int>());
    }

    /// <summary>
    /// Reconnects the client to <paramref name="url"/>; returns its connect event. A Node server sends the missed
    /// packets before its CONNECT ack, and socket.io-client buffers them and emits them just before "connect"; Parley
    /// sends them right after the ack: the events around "connect" are kept in <see cref="_events"/> in arrival order.
    /// </summary>
    private async Task<JsonNode> ReconnectToAsync(string handle, string url)
    {
        await _clients.CallAsync("sio.reconnectTo", new { h = handle, url });
        _events.Clear();
        await TestTimeouts.Eventually(() =>
        {
            _events.AddRange(_clients.Drain(handle));
            return _events.Any(e => e.Event == "connect");
        }, because: "the client connects again");
        var connect = _events.First(e => e.Event == "connect");
        _events.RemoveAll(e => e.Event != "event");
        return connect.Data!;
    }

    /// <summary>The client's next socket.io event, from those kept by <see cref="ReconnectToAsync"/> first.</summary>
    private async Task<JsonArray> ExpectNextAsync(string handle, string name)
    {
        if (_events.Count > 0)
        {
            var e = _events[0];
            _events.RemoveAt(0);
            Assert.Equal(name, e.Data!["name"]!.GetValue<string>());
            return e.Data["args"]!.AsArray();
        }
        return await _clients.ExpectNextAsync(handle, name);
    }

    private async Task ExpectMissedAsync(string handle)
    {
        var first = await ExpectNextAsync(handle, "missed");
        Assert.Equal(1, first[0]!.GetValue<int>());
        Assert.Equal(s_binary, DriverBinary.Unwrap(first[1]));
        Assert.Equal(2, (await ExpectNextAsync(handle, "missed"))[0]!.GetValue<int>());
    }

    private async Task<int> SessionCountAsync() =>
        (await redis.CliAsync("KEYS", "sio:session:*")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;

    [Fact]
    public async Task A_client_of_a_stopped_node_recovers_on_another_with_rooms_data_and_what_it_missed()
    {
        var a = await StartParleyAsync();
        await using var b = await StartParleyAsync();
        await Wait.ForServerCountAsync(() => b.Io.Sockets.Adapter.ServerCountAsync(), 2);
        var client = await _clients.ConnectAsync(a.Url, ["room"]);
        var onA = a.Io.Sockets.Sockets[client.Id];
        onA.Join("joined-on-a");
        onA.Data["kept"] = "from a";
        await ReceiveFirstPacketAsync(b, client.Handle);
        using var metrics = new MetricRecorder(b.Host.Services.GetRequiredService<ParleyMetrics>().Meter);

        await a.DisposeAsync(); // "server shutting down": a recoverable reason; the session is written before A stops
        await _clients.NextEventAsync(client.Handle, "disconnect");
        await b.Io.To("room").EmitAsync("missed", 1, s_binary).WithTimeout();
        await b.Io.To("elsewhere").EmitAsync("not-for-it").WithTimeout();
        await b.Io.Except("room").EmitAsync("not-for-it").WithTimeout();
        await b.Io.EmitAsync("missed", 2).WithTimeout();

        var connect = await ReconnectToAsync(client.Handle, b.Url);
        Assert.True(connect["recovered"]!.GetValue<bool>());
        Assert.Equal(client.Id, connect["id"]!.GetValue<string>());
        await ExpectMissedAsync(client.Handle);
        var onB = b.Io.Sockets.Sockets[client.Id];
        Assert.True(onB.Recovered);
        Assert.Contains("joined-on-a", onB.Rooms);
        Assert.Equal("from a", ((JsonElement)onB.Data["kept"]!).GetString());
        // Counted by the node that restored it, as the in-memory adapter counts its own.
        Assert.Equal(1, metrics.Sum("parley.socketio.recovery.attempts", ("parley.recovery.result", "recovered")));
        Assert.Equal(1, metrics.Sum("parley.socketio.recovery.attempts"));

        // Then what comes next, once: the replay is over.
        await b.Io.To("joined-on-a").EmitAsync("after").WithTimeout();
        await ExpectNextAsync(client.Handle, "after");
    }

    [Fact]
    public async Task A_session_that_is_gone_gives_a_fresh_socket()
    {
        await using var a = await StartParleyAsync();
        var client = await _clients.ConnectAsync(a.Url, ["room"]);
        await ReceiveFirstPacketAsync(a, client.Handle);
        var key = "sio:session:" + a.Io.Sockets.Sockets[client.Id].Pid;
        await _clients.CallAsync("sio.closeEngine", new { h = client.Handle });
        await _clients.NextEventAsync(client.Handle, "disconnect");
        await TestTimeouts.Eventually(async () => (await redis.CliAsync("EXISTS", key)).Trim() == "1", because: "the session is written");
        // It expires after MaxDisconnectionDuration (PX); removed here as if that time had passed.
        var ttl = long.Parse((await redis.CliAsync("PTTL", key)).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(ttl, 1, (long)new ConnectionStateRecoveryOptions().MaxDisconnectionDuration.TotalMilliseconds);
        await redis.CliAsync("DEL", key);
        using var metrics = new MetricRecorder(a.Host.Services.GetRequiredService<ParleyMetrics>().Meter);

        var connect = await ReconnectToAsync(client.Handle, a.Url);
        Assert.False(connect["recovered"]!.GetValue<bool>());
        Assert.NotEqual(client.Id, connect["id"]!.GetValue<string>());
        Assert.Equal(1, metrics.Sum("parley.socketio.recovery.attempts", ("parley.recovery.result", "unknown_session")));
        Assert.Equal(1, metrics.Sum("parley.socketio.recovery.attempts"));
    }

    [Fact]
    public async Task An_offset_trimmed_from_the_stream_gives_a_fresh_socket_and_is_counted()
    {
        await using var a = await StartParleyAsync();
        var client = await _clients.ConnectAsync(a.Url, ["room"]);
        await ReceiveFirstPacketAsync(a, client.Handle);
        var key = "sio:session:" + a.Io.Sockets.Sockets[client.Id].Pid;
        await _clients.CallAsync("sio.closeEngine", new { h = client.Handle });
        await _clients.NextEventAsync(client.Handle, "disconnect");
        await TestTimeouts.Eventually(async () => (await redis.CliAsync("EXISTS", key)).Trim() == "1", because: "the session is written");
        await redis.CliAsync("XTRIM", "socket.io", "MAXLEN", "0"); // as MAXLEN does to old entries under load
        using var metrics = new MetricRecorder(a.Host.Services.GetRequiredService<ParleyMetrics>().Meter);

        var connect = await ReconnectToAsync(client.Handle, a.Url);
        Assert.False(connect["recovered"]!.GetValue<bool>());
        Assert.Equal(1, metrics.Sum("parley.socketio.recovery.attempts", ("parley.recovery.result", "unknown_offset")));
        Assert.Equal(1, metrics.Sum("parley.socketio.recovery.attempts"));
    }

    /// <summary>
    /// With recovery on, a node delivers its own broadcasts (and direct emits, which go through the stream) when the
    /// stream hands them back; an emit still completes only once it is on its way to the client, so what the server
    /// sends next, a disconnect here, comes after it.
    /// </summary>
    [Fact]
    public async Task An_emit_that_completed_reaches_the_client_before_what_the_server_sends_next()
    {
        await using var a = await StartParleyAsync();
        var client = await _clients.ConnectAsync(a.Url, ["room"]);
        var socket = a.Io.Sockets.Sockets[client.Id];
        await socket.EmitAsync("bye", 1).WithTimeout();
        await a.Io.To("room").EmitAsync("bye", 2).WithTimeout();
        socket.Disconnect();
        Assert.Equal(1, (await ExpectNextAsync(client.Handle, "bye"))[0]!.GetValue<int>());
        Assert.Equal(2, (await ExpectNextAsync(client.Handle, "bye"))[0]!.GetValue<int>());
        Assert.Equal("io server disconnect", (await _clients.NextEventAsync(client.Handle, "disconnect"))!["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Stream_entries_have_upstreams_fields()
    {
        await using var a = await StartParleyAsync();
        await a.Io.To("wire").EmitAsync("wire-check", "x").WithTimeout();
        var lines = (await redis.CliAsync("XREVRANGE", "socket.io", "+", "-", "COUNT", "1")).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Matches("^[0-9]+-[0-9]+$", lines[0]);
        var fields = new Dictionary<string, string>();
        for (var i = 1; i + 1 < lines.Length; i += 2)
        {
            fields[lines[i]] = lines[i + 1];
        }
        Assert.Equal(["data", "nsp", "type", "uid"], fields.Keys.Order());
        Assert.Equal("3", fields["type"]);
        Assert.Equal("/", fields["nsp"]);
        Assert.Equal(a.Io.Sockets.Adapter is Parley.Adapters.ClusterAdapter c ? c.Uid : "", fields["uid"]);
        using var data = JsonDocument.Parse(fields["data"]);
        Assert.Equal("[\"wire-check\",\"x\"]", data.RootElement.GetProperty("packet").GetProperty("data").GetRawText());
        Assert.Equal("[\"wire\"]", data.RootElement.GetProperty("opts").GetProperty("rooms").GetRawText());
    }

    [Fact]
    public async Task A_client_that_drops_from_Node_recovers_on_Parley_and_back()
    {
        await using var p = await StartParleyAsync();
        await using var n = await NodePeer.StartAsync(redis.Url, sharded: false, streams: true, recovery: true);
        await Wait.ForServerCountAsync(() => p.Io.Sockets.Adapter.ServerCountAsync(), 2);
        await Wait.ForServerCountAsync(async () => (await n.CallAsync("serverCount"))!.GetValue<int>(), 2);

        // Node → Parley
        var client = await _clients.ConnectAsync(n.Url, ["room"]);
        await ReceiveFirstPacketAsync(p, client.Handle);
        var sessions = await SessionCountAsync();
        await _clients.CallAsync("sio.closeEngine", new { h = client.Handle });
        await _clients.NextEventAsync(client.Handle, "disconnect");
        await TestTimeouts.Eventually(async () => await SessionCountAsync() > sessions, because: "Node writes the session");
        await n.CallAsync("emit", new { rooms = new[] { "room" }, @event = "missed", args = new JsonNode[] { 1, DriverBinary.Wrap(s_binary) } });
        await n.CallAsync("emit", new { rooms = new[] { "elsewhere" }, @event = "not-for-it" });
        await p.Io.EmitAsync("missed", 2).WithTimeout();
        var connect = await ReconnectToAsync(client.Handle, p.Url);
        Assert.True(connect["recovered"]!.GetValue<bool>());
        Assert.Equal(client.Id, connect["id"]!.GetValue<string>());
        await ExpectMissedAsync(client.Handle);
        Assert.True(p.Io.Sockets.Sockets[client.Id].Recovered);
        Assert.Contains("room", p.Io.Sockets.Sockets[client.Id].Rooms);

        // Parley → Node: the same client drops from Parley now.
        await ReceiveFirstPacketAsync(p, client.Handle);
        sessions = await SessionCountAsync();
        await _clients.CallAsync("sio.closeEngine", new { h = client.Handle });
        await _clients.NextEventAsync(client.Handle, "disconnect");
        await TestTimeouts.Eventually(async () => await SessionCountAsync() > sessions, because: "Parley writes the session");
        await p.Io.To("room").EmitAsync("missed", 1, s_binary).WithTimeout();
        await p.Io.To("elsewhere").EmitAsync("not-for-it").WithTimeout();
        await n.CallAsync("emit", new { @event = "missed", args = new[] { 2 } });
        connect = await ReconnectToAsync(client.Handle, n.Url);
        Assert.True(connect["recovered"]!.GetValue<bool>());
        Assert.Equal(client.Id, connect["id"]!.GetValue<string>());
        await ExpectMissedAsync(client.Handle);
        var recovered = await n.Driver.NextEventAsync("peer", "connection", where: e => e!["id"]!.GetValue<string>() == client.Id && e["recovered"]!.GetValue<bool>());
        Assert.NotNull(recovered);
    }
}

using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Parley.Testing;

namespace Parley.Tests.SocketIO;

/// <summary>
/// The socket API with the official socket.io-client 4.8 over each transport: long-polling only, WebSocket only,
/// and polling upgraded to WebSocket.
/// </summary>
public sealed class TransportFeatureTests : IAsyncLifetime
{
    private SioHost _host = null!;
    private readonly ConcurrentQueue<string> _anyEvents = new();

    public sealed record Upload(string Name, byte[] Data, Inner Inner);

    public sealed record Inner(byte[][] Parts);

    public async Task InitializeAsync()
    {
        _host = await SioHost.StartAsync(io =>
        {
            io.Of("/second");
            io.OnConnection(socket =>
        {
            socket.OnAny(e =>
            {
                _anyEvents.Enqueue(socket.Id + ":" + e.Name);
                return Task.CompletedTask;
            });
            // Re-emits every argument unchanged (binary included) as "echo-back".
            socket.On("echo", e => socket.EmitAsync("echo-back", e.ArgumentsForEmit()));
            // Answers through the client's ack with the arguments received.
            socket.On("ack-echo", e => e.AckAsync(e.ArgumentsForEmit()));
            socket.On<string>("typed", (s, ack) => ack("got " + s));
            // Binary nested in objects and arrays, read as byte[] by System.Text.Json.
            socket.On("upload", async e =>
            {
                var upload = e.Get<Upload>(0)!;
                await e.AckAsync(new
                {
                    name = upload.Name,
                    length = upload.Data.Length,
                    parts = upload.Inner.Parts.Select(p => p.Length).ToArray(),
                    first = upload.Data[0],
                    reversed = upload.Data.Reverse().ToArray(),
                });
            });
            socket.On("no-ack", _ => Task.CompletedTask);
            socket.On("join", e =>
            {
                socket.Join(e.Get<string>(0)!);
                return e.AckAsync(true);
            });
            socket.On("leave", e =>
            {
                socket.Leave(e.Get<string>(0)!);
                return e.AckAsync(true);
            });
            socket.On("to-room", async e =>
            {
                await socket.To(e.Get<string>(0)!).EmitAsync("room-msg", e.Get<string>(1));
                await e.AckAsync(true);
            });
            socket.On("broadcast", async e =>
            {
                await socket.Broadcast.EmitAsync("broadcast-msg", e.Get<string>(0));
                await e.AckAsync(true);
            });
        });
        });
    }

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    public static TheoryData<string> Transports => new() { "polling", "websocket", "upgrade" };

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Connects_with_the_expected_transport_and_a_fresh_socket_id(string transport)
    {
        var c = await _host.ConnectAsync(transport);
        var state = await _host.Driver.CallAsync("sio.state", new { h = c.H });
        Assert.True(state!["connected"]!.GetValue<bool>());
        Assert.Equal(transport == "polling" ? "polling" : "websocket", state["transport"]!.GetValue<string>());
        // The client reports the upgrade once it has sent its "5"; the server switches when that packet arrives.
        var expected = transport == "polling" ? global::Parley.EngineIO.EngineTransport.Polling : global::Parley.EngineIO.EngineTransport.WebSocket;
        await TestTimeouts.Eventually(() => c.Socket.Transport == expected, because: "the server on the client's transport");
        // AddParley's pipeline runs each WebSocket (direct or upgraded) over a stream that writes a batch at once.
        Assert.True(_host.Io.Engine.TryGetConnection(c.Socket.ConnectionId, out var connection));
        Assert.Equal(transport != "polling", connection.WritesBatched);
        Assert.NotEqual(c.Socket.ConnectionId, c.Id); // the Socket.IO id is not the Engine.IO sid
        Assert.Equal(20, c.Id.Length);
        Assert.Contains(c.Id, c.Socket.Rooms);
        Assert.True(c.Socket.Connected);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Events_travel_both_ways_with_json_and_binary_nested_in_objects(string transport)
    {
        var c = await _host.ConnectAsync(transport);
        byte[] bin = [0, 1, 2, 255];
        await c.EmitAsync("echo", 1.5, "two", new JsonObject { ["three"] = new JsonArray(true, null), ["bin"] = DriverBinary.Wrap(bin) }, DriverBinary.Wrap([9, 8]));
        var args = await c.NextAsync("echo-back");
        Assert.Equal(4, args.Count);
        Assert.Equal(1.5, args[0]!.GetValue<double>());
        Assert.Equal("two", args[1]!.GetValue<string>());
        Assert.True(args[2]!["three"]![0]!.GetValue<bool>());
        Assert.Null(args[2]!["three"]![1]);
        Assert.Equal(bin, DriverBinary.Unwrap(args[2]!["bin"]));
        Assert.Equal(new byte[] { 9, 8 }, DriverBinary.Unwrap(args[3]));

        // Server → client: byte[] and ReadOnlyMemory<byte> at the top level and nested become binary attachments.
        await c.Socket.EmitAsync("from-server", new byte[] { 7, 7 }, new { file = new { data = new byte[] { 1, 2, 3 } }, list = new[] { new byte[] { 4 } } }, (ReadOnlyMemory<byte>)new byte[] { 5 });
        var fromServer = await c.NextAsync("from-server");
        Assert.Equal(new byte[] { 7, 7 }, DriverBinary.Unwrap(fromServer[0]));
        Assert.Equal(new byte[] { 1, 2, 3 }, DriverBinary.Unwrap(fromServer[1]!["file"]!["data"]));
        Assert.Equal(new byte[] { 4 }, DriverBinary.Unwrap(fromServer[1]!["list"]![0]));
        Assert.Equal(new byte[] { 5 }, DriverBinary.Unwrap(fromServer[2]));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Client_to_server_acks_carry_json_and_binary_and_time_out_when_unanswered(string transport)
    {
        var c = await _host.ConnectAsync(transport);
        // emitWithAck resolves with the ack's first argument: here an object carrying binary.
        var echoed = await c.EmitWithAckAsync("ack-echo", [new JsonObject { ["s"] = "a", ["n"] = 2, ["bin"] = DriverBinary.Wrap([1, 2, 3]) }], timeout: 10_000);
        Assert.Equal("a", echoed!["s"]!.GetValue<string>());
        Assert.Equal(2, echoed["n"]!.GetValue<int>());
        Assert.Equal(new byte[] { 1, 2, 3 }, DriverBinary.Unwrap(echoed["bin"]));
        Assert.Equal(new byte[] { 4, 4 }, DriverBinary.Unwrap(await c.EmitWithAckAsync("ack-echo", [DriverBinary.Wrap([4, 4])])));

        var typed = await c.EmitWithAckAsync("typed", ["x"]);
        Assert.Equal("got x", typed!.GetValue<string>());

        var upload = await c.EmitWithAckAsync("upload", [new JsonObject
        {
            ["name"] = "f.bin",
            ["data"] = DriverBinary.Wrap([10, 20, 30]),
            ["inner"] = new JsonObject { ["parts"] = new JsonArray(DriverBinary.Wrap([1]), DriverBinary.Wrap([1, 2])) },
        }]);
        Assert.Equal("f.bin", upload!["name"]!.GetValue<string>());
        Assert.Equal(3, upload!["length"]!.GetValue<int>());
        Assert.Equal("[1,2]", upload!["parts"]!.ToJsonString());
        Assert.Equal(10, upload!["first"]!.GetValue<int>());
        Assert.Equal(new byte[] { 30, 20, 10 }, DriverBinary.Unwrap(upload!["reversed"]));

        // The server never answers "no-ack": the client's socket.timeout(ms).emitWithAck rejects.
        var error = await Assert.ThrowsAsync<NodeDriverException>(() => c.EmitWithAckAsync("no-ack", [1], timeout: 300));
        Assert.Contains("operation has timed out", error.Message);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Server_to_client_acks_are_answered_with_binary_and_time_out_when_the_client_is_silent(string transport)
    {
        var c = await _host.ConnectAsync(transport);
        await c.AckWithAsync("question", "answer", DriverBinary.Wrap([4, 5]), new JsonObject { ["n"] = 3 });
        var answer = await c.Socket.EmitWithAckAsync("question", ["what?", new byte[] { 1 }], TimeSpan.FromSeconds(10)).WithTimeout();
        Assert.Equal(3, answer.Length);
        Assert.Equal("answer", answer[0].Get<string>(_host.Io.WireOptions));
        Assert.True(answer[1].TryGetBytes(out var bytes));
        Assert.Equal(new byte[] { 4, 5 }, bytes.ToArray());
        Assert.Equal(new byte[] { 4, 5 }, answer[1].Get<byte[]>(_host.Io.WireOptions));
        Assert.Equal(3, answer[2].Element.GetProperty("n").GetInt32());
        var asked = await c.NextAsync("question");
        Assert.Equal(new byte[] { 1 }, DriverBinary.Unwrap(asked[1]));

        Assert.Equal("answer", await c.Socket.Timeout(TimeSpan.FromSeconds(10)).EmitWithAckAsync<string>("question", []).WithTimeout());

        // Nobody answers "silent": both forms of the timeout fail, and a late ack would be ignored.
        await Assert.ThrowsAsync<TimeoutException>(() => c.Socket.EmitWithAckAsync("silent", [], TimeSpan.FromMilliseconds(300)).WithTimeout());
        await Assert.ThrowsAsync<TimeoutException>(() => c.Socket.Timeout(TimeSpan.FromMilliseconds(300)).EmitWithAckAsync("silent", []).WithTimeout());
        var silent = await _host.Driver.NextEventAsync(c.H, "event", where: d => d?["name"]?.GetValue<string>() == "silent");
        Assert.True(silent!["withAck"]!.GetValue<bool>());
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Handshake_data_reaches_the_server(string transport)
    {
        var c = await _host.ConnectAsync(transport, new JsonObject
        {
            ["auth"] = new JsonObject { ["token"] = "t-1", ["n"] = 5 },
            ["query"] = new JsonObject { ["room"] = "lobby" },
            ["extraHeaders"] = new JsonObject { ["x-parley-test"] = "yes" },
        });
        var hs = c.Socket.Handshake;
        Assert.Equal("t-1", hs.Auth.GetProperty("token").GetString());
        Assert.Equal(5, hs.Auth.GetProperty("n").GetInt32());
        Assert.Equal("lobby", hs.Query["room"]);
        Assert.Equal("4", hs.Query["EIO"]);
        Assert.Equal("yes", hs.GetHeader("X-Parley-Test"));
        Assert.StartsWith("/socket.io/?", hs.Url);
        Assert.Contains("room=lobby", hs.Url);
        Assert.False(hs.Secure);
        Assert.Equal("127.0.0.1", hs.Address.Replace("::ffff:", "", StringComparison.Ordinal));
        Assert.InRange(hs.Issued, DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Assert.Equal(hs.Issued, hs.Time.ToUnixTimeMilliseconds());
        Assert.Equal(TimeSpan.Zero, hs.Time.Offset);

        c.Socket.Data["user"] = "alice";
        Assert.Equal("alice", c.Socket.Data["user"]);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Rooms_except_and_broadcast_leave_out_the_sender(string transport)
    {
        var room = "room-" + transport;
        var a = await _host.ConnectAsync(transport);
        var b = await _host.ConnectAsync(transport);
        var outsider = await _host.ConnectAsync(transport);
        Assert.True((await a.EmitWithAckAsync("join", [room]))!.GetValue<bool>());
        Assert.True((await b.EmitWithAckAsync("join", [room]))!.GetValue<bool>());
        Assert.Contains(room, a.Socket.Rooms);

        // socket.To(room): b gets it, a (the sender) and the outsider don't.
        await a.EmitWithAckAsync("to-room", [room, "hi room"]);
        Assert.Equal("hi room", (await b.NextAsync("room-msg"))[0]!.GetValue<string>());

        // io.To(room).Except(b's own room): only a.
        await _host.Io.To(room).Except(b.Id).EmitAsync("io-room", "only a").WithTimeout();
        Assert.Equal("only a", (await a.NextAsync("io-room"))[0]!.GetValue<string>());

        // io.In(room) and a list of rooms reach both members, once each.
        await _host.Io.In(room).To([room, a.Id]).EmitAsync("io-in", "both").WithTimeout();
        Assert.Equal("both", (await a.NextAsync("io-in"))[0]!.GetValue<string>());
        Assert.Equal("both", (await b.NextAsync("io-in"))[0]!.GetValue<string>());

        // socket.Broadcast: everyone but the sender (the outsider too).
        await b.EmitWithAckAsync("broadcast", ["from b"]);
        Assert.Equal("from b", (await outsider.NextAsync("broadcast-msg"))[0]!.GetValue<string>());
        Assert.Equal("from b", (await a.NextAsync("broadcast-msg"))[0]!.GetValue<string>());

        // A sentinel sent after everything proves nothing else arrived out of place.
        await a.EmitWithAckAsync("leave", [room]);
        Assert.DoesNotContain(room, a.Socket.Rooms);
        await _host.Io.To(room).EmitAsync("after-leave", "b only").WithTimeout();
        await _host.Io.To([a.Id, b.Id, outsider.Id]).EmitAsync("sentinel").WithTimeout();
        // Whatever was not consumed above must not be a copy that should never have arrived.
        foreach (var (client, forbidden) in new[] { (a, new[] { "room-msg", "after-leave" }), (b, new[] { "broadcast-msg", "io-room" }), (outsider, new[] { "room-msg", "io-room", "io-in", "after-leave" }) })
        {
            var names = await client.CollectUntilAsync("sentinel");
            Assert.Empty(names.Intersect(forbidden));
            Assert.Equal(client == b, names.Contains("after-leave"));
        }
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Volatile_emits_are_delivered_when_writable_and_dropped_when_the_transport_is_busy(string transport)
    {
        var c = await _host.ConnectAsync(transport);
        // A volatile emit to an idle transport goes through. Over polling the transport is writable only while a
        // GET waits, and the client's next GET follows each answer (a ping's too), so an emit may find it busy:
        // emit until one arrives.
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (true)
        {
            await c.Socket.Volatile.EmitAsync("vol", 0).WithTimeout();
            try
            {
                Assert.Equal(0, (await c.NextAsync("vol", TimeSpan.FromSeconds(1)))[0]!.GetValue<int>());
                break;
            }
            catch (TimeoutException) when (DateTime.UtcNow < deadline)
            {
            }
        }

        // A burst: after the first one the queue is no longer empty, so most of the others are dropped.
        for (var i = 1; i <= 500; i++)
        {
            await c.Socket.Volatile.EmitAsync("burst", i);
        }
        await _host.Io.Volatile.To("nobody").EmitAsync("burst", -1).WithTimeout();
        await c.Socket.EmitAsync("end-of-burst").WithTimeout();
        await c.NextAsync("end-of-burst");
        var received = _host.Driver.Drain(c.H).Count(e => e.Event == "event" && e.Data!["name"]!.GetValue<string>() == "burst");
        Assert.InRange(received, 0, 499);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task OnAny_sees_every_event_before_the_named_handlers(string transport)
    {
        var c = await _host.ConnectAsync(transport);
        await c.EmitAsync("not-handled-anywhere", 1);
        await c.EmitWithAckAsync("typed", ["y"]);
        await TestTimeouts.Eventually(() => _anyEvents.Contains(c.Id + ":not-handled-anywhere") && _anyEvents.Contains(c.Id + ":typed"));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Client_disconnect_gives_the_server_client_namespace_disconnect(string transport)
    {
        var c = await _host.ConnectAsync(transport);
        var reason = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var disconnecting = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        c.Socket.Join("before-leaving");
        c.Socket.Disconnecting += (s, _) => disconnecting.TrySetResult(s.Rooms.Contains("before-leaving"));
        c.Socket.Disconnected += (_, r) => reason.TrySetResult(r);
        await c.DisconnectAsync();
        Assert.Equal("client namespace disconnect", await reason.Task.WithTimeout());
        Assert.True(await disconnecting.Task.WithTimeout()); // rooms still visible in Disconnecting
        Assert.False(c.Socket.Connected);
        Assert.Empty(c.Socket.Rooms);
        Assert.False(_host.Io.Sockets.Sockets.ContainsKey(c.Id));
        Assert.Equal("io client disconnect", (await c.NextEventAsync("disconnect"))!["reason"]!.GetValue<string>());
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Server_disconnect_gives_the_client_io_server_disconnect(string transport)
    {
        var c = await _host.ConnectAsync(transport);
        var pending = c.Socket.EmitWithAckAsync("never-answered", [], TimeSpan.FromSeconds(15));
        await c.Socket.DisconnectAsync().WithTimeout();
        Assert.Equal("io server disconnect", (await c.NextEventAsync("disconnect"))!["reason"]!.GetValue<string>());
        Assert.Equal("server namespace disconnect", _host.DisconnectReasons[c.Id]);
        // A pending ack fails at once when the socket goes.
        await Assert.ThrowsAsync<ParleyDisconnectedException>(() => pending.WithTimeout());
        await Assert.ThrowsAsync<ParleyDisconnectedException>(() => c.Socket.EmitWithAckAsync("late", []).WithTimeout());
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Disconnect_true_closes_the_underlying_connection_for_every_namespace(string transport)
    {
        var c = await _host.ConnectAsync(transport);
        var other = await _host.Driver.CallForHandleAsync("sio.connectNamespace", new { h = c.H, nsp = "/second" });
        var otherId = (await _host.Driver.NextEventAsync(other, "connect"))!["id"]!.GetValue<string>();
        var otherSocket = await _host.SocketAsync(otherId);
        Assert.Equal(c.Socket.ConnectionId, otherSocket.ConnectionId); // multiplexed on one Engine.IO connection

        await c.Socket.DisconnectAsync(close: true).WithTimeout();
        // Every transport delivers the DISCONNECT packets before the close: over long-polling the close packet
        // goes alone on the next GET, as engine.io sends it (polling.ts shouldClose).
        Assert.Equal("io server disconnect", (await c.NextEventAsync("disconnect"))!["reason"]!.GetValue<string>());
        Assert.Equal("io server disconnect", (await _host.Driver.NextEventAsync(other, "disconnect"))!["reason"]!.GetValue<string>());
        Assert.False(otherSocket.Connected);
        await TestTimeouts.Eventually(() => _host.Io.Engine.Connections.All(x => x.Id != c.Socket.ConnectionId), because: "the Engine.IO connection is closed");
    }
}

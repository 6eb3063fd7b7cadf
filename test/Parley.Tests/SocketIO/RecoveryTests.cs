using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Parley.Diagnostics;
using Parley.Testing;

namespace Parley.Tests.SocketIO;

/// <summary>
/// Connection state recovery on one node (socket.io 4.6+), with the official socket.io-client 4.8, which sends its
/// private session id and last offset by itself when it connects again. The drop is forced, never timed: the client
/// closes its Engine.IO connection (<c>engine.close()</c>) or the server closes the transport; the client connects
/// again only when the test says so (<c>socket.connect()</c>), after the server has seen the socket go.
/// </summary>
public sealed class RecoveryTests : IAsyncLifetime
{
    private static readonly byte[] s_binary = [0, 1, 2, 250, 255];

    private readonly ConcurrentQueue<ParleySocket> _connections = new();
    private int _middlewareRuns;
    private bool _slowOnRecovery;
    private SioHost? _host;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }

    public static TheoryData<string> Transports => new() { "polling", "websocket" };

    private async Task<SioHost> StartAsync(Action<ConnectionStateRecoveryOptions>? recovery = null)
    {
        _host = await SioHost.StartAsync(
            io =>
            {
                io.Sockets.Use(async (socket, next) =>
                {
                    Interlocked.Increment(ref _middlewareRuns);
                    if (socket.Recovered && _slowOnRecovery)
                    {
                        // Broadcasts go on between the restore and the socket joining its rooms.
                        await Task.Delay(200);
                    }
                    await next();
                });
                io.Sockets.OnConnection(socket =>
                {
                    _connections.Enqueue(socket);
                    socket.On("join", e =>
                    {
                        socket.Join(e.Get<string>(0)!);
                        return e.AckAsync(true);
                    });
                    socket.On("set", e =>
                    {
                        socket.Data["name"] = e.Get<string>(0);
                        return e.AckAsync(true);
                    });
                });
            },
            o =>
            {
                var options = new ConnectionStateRecoveryOptions();
                recovery?.Invoke(options);
                o.ConnectionStateRecovery = options;
            });
        return _host;
    }

    /// <summary>A client that does not reconnect by itself: the test drops it and brings it back.</summary>
    private static Task<SioHost.Client> ConnectAsync(SioHost host, string transport) =>
        host.ConnectAsync(transport, new JsonObject { ["reconnection"] = false });

    /// <summary>
    /// Connects a client and sends it one packet, so that it has an offset to come back with (a client that received
    /// nothing cannot recover, as with socket.io); returns the client and that offset.
    /// </summary>
    private static async Task<(SioHost.Client Client, string Offset)> ConnectWithOffsetAsync(SioHost host, string transport)
    {
        var client = await ConnectAsync(host, transport);
        await client.Socket.EmitAsync("hello", 1);
        var offset = Args((await EventsUntilAsync(client, "hello"))[^1])[^1]!.GetValue<string>();
        return (client, offset);
    }

    /// <summary>Drops the client's connection from its side and waits until both sides saw it go.</summary>
    private static async Task DropAsync(SioHost.Client client, string expectedServerReason = "transport close")
    {
        await client.Host.Driver.CallAsync("sio.closeEngine", new { h = client.H });
        await client.NextEventAsync("disconnect");
        await TestTimeouts.Eventually(() => client.Host.DisconnectReasons.ContainsKey(client.Id), because: "the server saw the drop");
        Assert.Equal(expectedServerReason, client.Host.DisconnectReasons[client.Id]);
    }

    /// <summary>Connects the dropped client again; returns its connect event (id, recovered).</summary>
    private static async Task<JsonNode> ReconnectAsync(SioHost.Client client)
    {
        client.Host.Driver.Drain(client.H);
        await client.Host.Driver.CallAsync("sio.reconnect", new { h = client.H });
        return (await client.NextEventAsync("connect"))!;
    }

    /// <summary>Every event the client received until one named <paramref name="sentinel"/> (included), in order.</summary>
    private static async Task<List<JsonNode>> EventsUntilAsync(SioHost.Client client, string sentinel)
    {
        var events = new List<JsonNode>();
        while (events.Count == 0 || events[^1]["name"]!.GetValue<string>() != sentinel)
        {
            events.Add((await client.NextEventAsync("event"))!);
        }
        return events;
    }

    private static string Name(JsonNode e) => e["name"]!.GetValue<string>();

    private static JsonArray Args(JsonNode e) => e["args"]!.AsArray();

    private ParleySocket Latest => _connections.Last();

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_dropped_client_gets_its_id_rooms_data_and_every_missed_packet_once_in_order(string transport)
    {
        var host = await StartAsync();
        var client = await ConnectAsync(host, transport);
        await client.EmitWithAckAsync("join", ["blue"]);
        await client.EmitWithAckAsync("set", ["ada"]);
        var old = client.Socket;
        Assert.False(old.Recovered);

        // A first packet gives the client an offset to come back with; socket.io's client passes it to handlers
        // as one more argument (the last element of the data array).
        await host.Io.To("blue").EmitAsync("before", 0);
        var before = Args((await EventsUntilAsync(client, "before"))[^1]);
        Assert.Equal(0, before[0]!.GetValue<int>());
        Assert.Equal(System.Text.Json.JsonValueKind.String, before[^1]!.GetValueKind());

        await DropAsync(client);

        // Missed: a broadcast to its room, a broadcast to everyone with binary, a direct emit to the socket that is
        // gone (kept for its id), in this order. Not kept: volatile, another room, and emits expecting an ack.
        await host.Io.To("blue").EmitAsync("missed", 1, "room");
        await host.Io.EmitAsync("missed", 2, s_binary);
        await old.EmitAsync("missed", 3, "direct");
        await host.Io.Volatile.EmitAsync("volatile", 4);
        await host.Io.To("green").EmitAsync("other-room", 5);
        // An emit with an ack to the socket that is away fails at once on the server and is not kept: the client
        // never sees it (socket.io keeps no packet with an ack id, an ack callback cannot be replayed).
        await Assert.ThrowsAsync<ParleyDisconnectedException>(() => old.EmitWithAckAsync("with-ack", [6]));
        // A broadcast with acks reaches no one now, answers at once with no ack, and is not kept either.
        Assert.Empty(await host.Io.Sockets.Timeout(TimeSpan.FromSeconds(5)).EmitWithAckAsync("broadcast-with-ack", [7]));

        var connect = await ReconnectAsync(client);
        Assert.True(connect["recovered"]!.GetValue<bool>());
        Assert.Equal(client.Id, connect["id"]!.GetValue<string>());
        var socket = await NextConnectionAfterAsync(old);
        Assert.True(socket.Recovered);
        Assert.Equal(client.Id, socket.Id);
        Assert.Contains("blue", socket.Rooms);
        Assert.Equal("ada", socket.Data["name"]);
        Assert.Equal(1, _middlewareRuns); // skipped on recovery (SkipMiddlewares, the default)

        await host.Io.To("blue").EmitAsync("live", 8);
        var events = await EventsUntilAsync(client, "live");
        Assert.Equal(["missed", "missed", "missed", "live"], events.Select(Name));
        Assert.Equal([1, 2, 3, 8], events.Select(e => Args(e)[0]!.GetValue<int>()));
        Assert.Equal("room", Args(events[0])[1]!.GetValue<string>());
        Assert.Equal(s_binary, DriverBinary.Unwrap(Args(events[1])[1]));
        Assert.Equal("direct", Args(events[2])[1]!.GetValue<string>());
        // A replayed packet never carries an ack id.
        Assert.All(events, e => Assert.False(e["withAck"]!.GetValue<bool>()));
        // Each packet ends with its offset, increasing, and after the one the client had.
        var offsets = events.Select(e => long.Parse(Args(e)[^1]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(offsets.Order(), offsets);
        Assert.True(offsets[0] > long.Parse(before[^1]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));

        // Acks work again on the recovered socket, both ways.
        await client.AckWithAsync("ask", "yes");
        var answer = await socket.EmitWithAckAsync<string>("ask", [], TimeSpan.FromSeconds(10));
        Assert.Equal("yes", answer);
        Assert.True(await host.Driver.ReceivesNoneAsync(client.H, "event", TimeSpan.FromMilliseconds(300),
            e => Name(e!) is "volatile" or "other-room" or "with-ack" or "broadcast-with-ack" or "missed"));
    }

    /// <summary>The server-side socket of the latest connection, once it is not <paramref name="old"/>.</summary>
    private async Task<ParleySocket> NextConnectionAfterAsync(ParleySocket old)
    {
        await TestTimeouts.Eventually(() => !ReferenceEquals(Latest, old), because: "a new server-side socket");
        return Latest;
    }

    [Fact]
    public async Task A_drop_closed_by_the_server_is_recovered_too()
    {
        var host = await StartAsync();
        var (client, _) = await ConnectWithOffsetAsync(host, "websocket");
        var old = client.Socket;

        // The transport fails on the server's side (as when a write to the client fails).
        Assert.True(host.Io.Engine.TryGetConnection(old.ConnectionId, out var connection));
        connection.OnClose(Parley.EngineIO.EngineCloseReasons.TransportError);
        await client.NextEventAsync("disconnect");
        await TestTimeouts.Eventually(() => host.DisconnectReasons.ContainsKey(client.Id));
        await old.EmitAsync("missed", 2);

        var connect = await ReconnectAsync(client);
        Assert.True(connect["recovered"]!.GetValue<bool>());
        var events = await EventsUntilAsync(client, "missed");
        Assert.Equal([2], events.Select(e => Args(e)[0]!.GetValue<int>()));
    }

    [Fact]
    public async Task A_session_expires_after_MaxDisconnectionDuration_and_the_client_gets_a_fresh_socket()
    {
        var host = await StartAsync(r => r.MaxDisconnectionDuration = TimeSpan.FromSeconds(1));
        var (client, _) = await ConnectWithOffsetAsync(host, "websocket");
        await client.EmitWithAckAsync("join", ["blue"]);
        await DropAsync(client);
        await host.Io.To("blue").EmitAsync("missed", 2);

        // Swept: the session and the packets go once they are older than the duration, without any traffic.
        var log = host.Io.Sockets.Adapter.Recovery!;
        await TestTimeouts.Eventually(() => log.SessionCount == 0 && log.PacketCount == 0, because: "expired sessions and packets swept");

        var connect = await ReconnectAsync(client);
        Assert.False(connect["recovered"]!.GetValue<bool>());
        Assert.NotEqual(client.Id, connect["id"]!.GetValue<string>());
        var socket = await NextConnectionAfterAsync(client.Socket);
        Assert.False(socket.Recovered);
        Assert.DoesNotContain("blue", socket.Rooms);
        Assert.Equal(2, _middlewareRuns);
        Assert.True(await host.Driver.ReceivesNoneAsync(client.H, "event", TimeSpan.FromMilliseconds(300), e => Name(e!) == "missed"));
    }

    [Fact]
    public async Task A_client_whose_offset_was_evicted_gets_a_fresh_socket_and_the_eviction_is_counted()
    {
        var host = await StartAsync(r => r.MaxPackets = 2);
        using var metrics = new MetricRecorder(host.Web.Services.GetRequiredService<ParleyMetrics>().Meter);
        var (client, _) = await ConnectWithOffsetAsync(host, "websocket");
        await DropAsync(client);
        for (var i = 0; i < 3; i++)
        {
            await host.Io.EmitAsync("missed", i);
        }
        Assert.Equal(2, host.Io.Sockets.Adapter.Recovery!.PacketCount);

        var connect = await ReconnectAsync(client);
        Assert.False(connect["recovered"]!.GetValue<bool>());
        Assert.NotEqual(client.Id, connect["id"]!.GetValue<string>());
        Assert.True(metrics.Sum("parley.socketio.recovery.evictions") >= 2);
        Assert.Equal(1, metrics.Sum("parley.socketio.recovery.attempts", ("parley.recovery.result", "unknown_offset")));
    }

    [Fact]
    public async Task A_client_initiated_disconnect_is_not_recoverable()
    {
        var host = await StartAsync();
        var (client, _) = await ConnectWithOffsetAsync(host, "websocket");
        await client.DisconnectAsync();
        await TestTimeouts.Eventually(() => host.DisconnectReasons.ContainsKey(client.Id));
        Assert.Equal("client namespace disconnect", host.DisconnectReasons[client.Id]);
        Assert.Equal(0, host.Io.Sockets.Adapter.Recovery!.SessionCount);

        // socket.io-client still sends its pid and offset: there is no session for them.
        var connect = await ReconnectAsync(client);
        Assert.False(connect["recovered"]!.GetValue<bool>());
        Assert.NotEqual(client.Id, connect["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Middlewares_run_for_a_recovered_socket_when_SkipMiddlewares_is_off()
    {
        var host = await StartAsync(r => r.SkipMiddlewares = false);
        var (client, _) = await ConnectWithOffsetAsync(host, "polling");
        await DropAsync(client);

        var connect = await ReconnectAsync(client);
        Assert.True(connect["recovered"]!.GetValue<bool>());
        Assert.Equal(2, _middlewareRuns);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Broadcasts_racing_a_drop_and_a_recovery_each_arrive_exactly_once_in_order(string transport)
    {
        // A middleware that takes its time on recovery: what is broadcast between the restore and the socket joining
        // its rooms is neither in the restored session nor delivered live, and must still arrive once, in order.
        _slowOnRecovery = true;
        var host = await StartAsync(r => r.SkipMiddlewares = false);
        var client = await ConnectAsync(host, transport);
        await client.EmitWithAckAsync("join", ["blue"]);
        var received = new List<DriverEvent>();
        var stop = 0;
        var sent = 0;
        // Broadcasts without a pause, before, during and after the drop and the recovery.
        var broadcaster = Task.Run(async () =>
        {
            while (Volatile.Read(ref stop) == 0)
            {
                await host.Io.To("blue").EmitAsync("n", sent++);
                if (sent % 20 == 0)
                {
                    await Task.Delay(1);
                }
            }
            await host.Io.To("blue").EmitAsync("end");
        });

        async Task UntilAsync(Func<bool> condition, string because)
        {
            await TestTimeouts.Eventually(() =>
            {
                received.AddRange(host.Driver.Drain(client.H));
                return condition();
            }, because: because);
        }
        int Count() => received.Count(e => e.Event == "event" && Name(e.Data!) == "n");

        await UntilAsync(() => Count() >= 100, "100 broadcasts before the drop");
        await host.Driver.CallAsync("sio.closeEngine", new { h = client.H });
        await TestTimeouts.Eventually(() => host.DisconnectReasons.ContainsKey(client.Id), because: "the server saw the drop");
        var atDrop = Volatile.Read(ref sent);
        await UntilAsync(() => Volatile.Read(ref sent) >= atDrop + 100, "100 broadcasts while the client is away");
        await host.Driver.CallAsync("sio.reconnect", new { h = client.H });
        await UntilAsync(() => received.Any(e => e.Event == "connect" && e.Data!["recovered"]!.GetValue<bool>()), "the recovered connection");
        var atRecovery = Count();
        await UntilAsync(() => Count() >= atRecovery + 300, "300 broadcasts after the recovery");
        Volatile.Write(ref stop, 1);
        await broadcaster.WithTimeout();
        await UntilAsync(() => received.Any(e => e.Event == "event" && Name(e.Data!) == "end"), "the end");

        var numbers = received.Where(e => e.Event == "event" && Name(e.Data!) == "n").Select(e => Args(e.Data!)[0]!.GetValue<int>()).ToList();
        Assert.Equal(Enumerable.Range(0, sent), numbers);
        Assert.True(_connections.Count(s => s.Id == client.Id) == 2 && Latest.Recovered);
    }

    [Fact]
    public async Task A_forged_or_malformed_session_in_the_auth_gets_a_fresh_socket()
    {
        var host = await StartAsync();
        var (owner, offset) = await ConnectWithOffsetAsync(host, "websocket");
        await DropAsync(owner);

        JsonObject[] forged =
        [
            new() { ["pid"] = "AAAAAAAAAAAAAAAAAAAA", ["offset"] = offset },
            new() { ["pid"] = 12, ["offset"] = offset },
            new() { ["pid"] = "AAAAAAAAAAAAAAAAAAAA", ["offset"] = new JsonObject() },
            new() { ["pid"] = new string('p', 10_000), ["offset"] = new string('9', 1_000) },
        ];
        foreach (var auth in forged)
        {
            var client = await host.ConnectAsync("websocket", new JsonObject { ["auth"] = auth });
            Assert.False(client.Socket.Recovered);
            Assert.NotEqual(owner.Id, client.Id);
        }
        // The real session is still there for its owner.
        Assert.Equal(1, host.Io.Sockets.Adapter.Recovery!.SessionCount);
        Assert.True((await ReconnectAsync(owner))["recovered"]!.GetValue<bool>());
    }
}

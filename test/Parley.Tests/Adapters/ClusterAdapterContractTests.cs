using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Parley.Adapters;
using Parley.Hosting;
using Parley.Testing;

namespace Parley.Tests.Adapters;

/// <summary>
/// Three Parley servers in one process joined by <see cref="BusAdapter"/>, a transport written in another assembly
/// against the public <see cref="ClusterAdapterWithHeartbeat"/> contract only; clients are the official
/// socket.io-client. Every cluster operation crosses the bus.
/// </summary>
public sealed class ClusterAdapterContractTests : IAsyncLifetime
{
    private readonly InProcessBus _bus = new();
    private readonly List<ParleyTestHost> _nodes = [];
    private NodeDriver _clients = null!;

    private ParleyTestHost A => _nodes[0];

    private ParleyTestHost B => _nodes[1];

    private ParleyTestHost C => _nodes[2];

    public async Task InitializeAsync()
    {
        for (var i = 0; i < 3; i++)
        {
            _nodes.Add(await StartNodeAsync());
        }
        _clients = A.Driver;
        foreach (var node in _nodes)
        {
            await TestTimeouts.Eventually(async () => await node.Io.Sockets.Adapter.ServerCountAsync() == 3, because: "every node hears the two others");
        }
    }

    private Task<ParleyTestHost> StartNodeAsync() =>
        ParleyTestHost.StartAsync(
            io =>
            {
                io.OnConnection(socket =>
                {
                    var auth = socket.Handshake.Auth;
                    if (auth.ValueKind == JsonValueKind.Object && auth.TryGetProperty("rooms", out var rooms))
                    {
                        socket.Join([.. rooms.EnumerateArray().Select(r => r.GetString()!)]);
                    }
                    if (auth.ValueKind == JsonValueKind.Object && auth.TryGetProperty("name", out var name))
                    {
                        socket.Data["name"] = name.Clone();
                    }
                });
                _ = io.Sockets;
            },
            services: b => b.Services.Replace(ServiceDescriptor.Singleton(new ParleyAdapterFactory(
                _bus.CreateAdapter(new ClusterAdapterOptions { RequestsTimeout = TimeSpan.FromSeconds(3), HeartbeatInterval = TimeSpan.FromSeconds(1), HeartbeatTimeout = TimeSpan.FromSeconds(3) })))));

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    private async Task<(string Handle, string Id)> ConnectAsync(ParleyTestHost node, string[] rooms, string? name = null)
    {
        var h = await _clients.CallForHandleAsync("sio.connect", new { url = node.Url, opts = new { transports = new[] { "websocket" }, auth = new { rooms, name } } });
        var connect = await _clients.NextEventAsync(h, "connect");
        return (h, connect!["id"]!.GetValue<string>());
    }

    private async Task<JsonArray> ExpectNextAsync(string h, string name)
    {
        var e = await _clients.NextEventAsync(h, "event");
        Assert.Equal(name, e!["name"]!.GetValue<string>());
        return e["args"]!.AsArray();
    }

    [Fact]
    public void The_transport_is_a_public_subclass_in_an_assembly_without_access_to_internals()
    {
        Assert.IsType<BusAdapter>(A.Io.Sockets.Adapter);
        Assert.NotEqual(typeof(ParleyServer).Assembly, typeof(BusAdapter).Assembly);
        var grants = typeof(ParleyServer).Assembly.GetCustomAttributes(typeof(System.Runtime.CompilerServices.InternalsVisibleToAttribute), false)
            .Cast<System.Runtime.CompilerServices.InternalsVisibleToAttribute>().Select(a => a.AssemblyName);
        Assert.DoesNotContain(typeof(BusAdapter).Assembly.GetName().Name, grants);
    }

    [Fact]
    public async Task Broadcasts_reach_every_node_with_rooms_except_local_and_binary()
    {
        var a1 = await ConnectAsync(A, ["r"]);
        var b1 = await ConnectAsync(B, ["r"]);
        var c1 = await ConnectAsync(C, ["r", "x"]);
        var c2 = await ConnectAsync(C, ["other"]);

        await A.Io.To("r").Except("x").EmitAsync("hello", "world", new byte[] { 1, 2, 3 }).WithTimeout();
        foreach (var h in new[] { a1.Handle, b1.Handle })
        {
            var args = await ExpectNextAsync(h, "hello");
            Assert.Equal("world", args[0]!.GetValue<string>());
            Assert.Equal([1, 2, 3], DriverBinary.Unwrap(args[1]));
        }
        await A.Io.Local.To("r").EmitAsync("local-only").WithTimeout();
        await B.Io.To("r").EmitAsync("marker").WithTimeout();
        await ExpectNextAsync(a1.Handle, "local-only");
        await ExpectNextAsync(a1.Handle, "marker");
        await ExpectNextAsync(b1.Handle, "marker");
        await ExpectNextAsync(c1.Handle, "marker"); // neither hello (except x) nor local-only

        await C.Io.To(c2.Id).EmitAsync("direct", new { n = 1 }).WithTimeout();
        await B.Io.EmitAsync("all").WithTimeout();
        Assert.Equal("[{\"n\":1}]", (await ExpectNextAsync(c2.Handle, "direct")).ToJsonString());
        foreach (var h in new[] { a1.Handle, b1.Handle, c1.Handle, c2.Handle })
        {
            await ExpectNextAsync(h, "all");
        }
    }

    [Fact]
    public async Task Broadcast_with_acks_collects_the_clients_of_every_node()
    {
        var clients = new[] { await ConnectAsync(A, ["acks"]), await ConnectAsync(B, ["acks"]), await ConnectAsync(C, ["acks"]) };
        for (var i = 0; i < clients.Length; i++)
        {
            await _clients.CallAsync("sio.ackWith", new { h = clients[i].Handle, @event = "ask", reply = new object[] { "c" + i } });
        }
        var answers = await B.Io.To("acks").Timeout(TimeSpan.FromSeconds(5)).EmitWithAckAsync("ask", [7]).WithTimeout();
        Assert.Equal(["c0", "c1", "c2"], answers.Select(a => a.Element.GetString()).Order());

        var silent = await ConnectAsync(C, ["acks"]);
        _ = silent; // never answers: the broadcast times out
        await Assert.ThrowsAsync<TimeoutException>(() => A.Io.To("acks").Timeout(TimeSpan.FromMilliseconds(500)).EmitWithAckAsync("ask", []).WithTimeout());
    }

    [Fact]
    public async Task FetchSockets_join_leave_and_disconnect_act_on_every_node()
    {
        var a1 = await ConnectAsync(A, ["f"], "ann");
        var b1 = await ConnectAsync(B, ["f", "g"], "bob");
        var c1 = await ConnectAsync(C, ["h"], "cid");

        var sockets = await A.Io.To("f").FetchSocketsAsync().WithTimeout();
        Assert.Equal(new[] { a1.Id, b1.Id }.Order(), sockets.Select(s => s.Id).Order());
        var bob = sockets.Single(s => s.Id == b1.Id);
        Assert.Null(bob.LocalSocket);
        Assert.Equal("bob", bob.Data.GetProperty("name").GetString());
        Assert.Equal(new[] { b1.Id, "f", "g" }.Order(), bob.Rooms.Order());
        Assert.Equal("websocket", bob.Handshake.Query["transport"]);
        Assert.Equal(3, (await C.Io.FetchSocketsAsync().WithTimeout()).Count);

        await bob.EmitAsync("to-you", 1).WithTimeout();
        await ExpectNextAsync(b1.Handle, "to-you");

        await A.Io.To("f").SocketsJoinAsync("joined").WithTimeout();
        var bSocket = await B.SocketAsync(b1.Id);
        await TestTimeouts.Eventually(() => bSocket.Rooms.Contains("joined"), because: "B's socket joins");
        Assert.DoesNotContain("joined", (await C.SocketAsync(c1.Id)).Rooms);
        await A.Io.To("joined").SocketsLeaveAsync("g").WithTimeout();
        await TestTimeouts.Eventually(() => !bSocket.Rooms.Contains("g"), because: "B's socket leaves");

        await A.Io.To("h").DisconnectSocketsAsync().WithTimeout();
        var reason = await _clients.NextEventAsync(c1.Handle, "disconnect");
        Assert.Equal("io server disconnect", reason!["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task ServerSideEmit_with_and_without_acks_and_node_departure()
    {
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        B.Io.On("ping", async e =>
        {
            if (e.HasAck)
            {
                await e.AckAsync(new { from = "B" });
            }
            else
            {
                received.TrySetResult("[" + string.Join(",", e.Arguments.Select(a => a.ToString())) + "]");
            }
        });
        C.Io.On("ping", async e =>
        {
            if (e.HasAck)
            {
                await e.AckAsync(new { from = "C" });
            }
        });
        await A.Io.ServerSideEmitAsync("ping", 1, "two").WithTimeout();
        Assert.Equal("[1,\"two\"]", await received.Task.WithTimeout());

        var answers = await A.Io.ServerSideEmitWithAckAsync("ping", [3], TimeSpan.FromSeconds(5)).WithTimeout();
        Assert.Equal(["{\"from\":\"B\"}", "{\"from\":\"C\"}"], answers.Select(a => a.GetRawText()).Order());

        var e = await Assert.ThrowsAsync<TimeoutException>(() => A.Io.ServerSideEmitWithAckAsync("nobody-listens", [], TimeSpan.FromMilliseconds(300)).WithTimeout());
        Assert.Equal("timeout reached: only 0 responses received out of 2", e.Message);

        // C leaves (ADAPTER_CLOSE): A stops counting it, and a request no longer waits for it.
        await C.DisposeAsync();
        _nodes.RemoveAt(2);
        await TestTimeouts.Eventually(async () => await A.Io.Sockets.Adapter.ServerCountAsync() == 2, because: "A forgets C");
        answers = await A.Io.ServerSideEmitWithAckAsync("ping", [4], TimeSpan.FromSeconds(5)).WithTimeout();
        Assert.Equal("{\"from\":\"B\"}", Assert.Single(answers).GetRawText());
    }

    [Fact]
    public async Task A_node_that_falls_silent_is_forgotten_after_the_heartbeat_timeout()
    {
        Assert.Equal(3, await A.Io.Sockets.Adapter.ServerCountAsync());
        _bus.Cut = true;
        try
        {
            // Nobody hears anybody any more: after HeartbeatTimeout (3 s) each node counts only itself.
            await TestTimeouts.Eventually(async () => await A.Io.Sockets.Adapter.ServerCountAsync() == 1, because: "A forgets the silent nodes");
            Assert.Empty(await A.Io.ServerSideEmitWithAckAsync("ping", [], TimeSpan.FromSeconds(5)).WithTimeout());
        }
        finally
        {
            _bus.Cut = false;
        }
        // Heartbeats (every second) bring them back.
        await TestTimeouts.Eventually(async () => await A.Io.Sockets.Adapter.ServerCountAsync() == 3, because: "heartbeats resume");
    }
}

using Microsoft.AspNetCore.Builder;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Parley.Redis;
using Parley.Testing;

namespace Parley.AdminUI.Tests;

/// <summary>
/// The admin namespace driven by socket.io-client exactly as the official UI drives it (lib/index.ts and the UI's
/// App.vue): sign-in with a bcrypt-checked password or a session id, the initial config and sockets, the live
/// events, and the operations; on one node, read-only, and on two nodes over Redis where one node's UI sees and acts
/// on the other's sockets.
/// </summary>
public sealed class AdminUITests(RedisServer redis) : IClassFixture<RedisServer>
{
    private const string Password = "parley-admin";
    private static readonly string s_hash = AdminUIPassword.Hash(Password, cost: 4);

    private static async Task<TestWebHost> StartNodeAsync(string serverId, bool readOnly = false, string? redisUrl = null, Action<AdminUIOptions>? configure = null)
    {
        var host = await TestWebHost.StartAsync(
            b =>
            {
                var parley = b.Services.AddParley(ParleyTestHost.FastOptions);
                if (redisUrl is not null)
                {
                    parley.AddRedis(redisUrl, o => o.RequestsTimeout = TimeSpan.FromSeconds(5));
                }
            },
            app => app.MapParley("/socket.io", io =>
            {
                io.OnConnection(socket =>
                {
                    if (socket.Handshake.Auth is { ValueKind: JsonValueKind.Object } auth && auth.TryGetProperty("room", out var room))
                    {
                        socket.Join(room.GetString()!);
                    }
                    socket.Data["name"] = "user-" + socket.Id[..4];
                });
                io.UseAdminUI(o =>
                {
                    o.Username = "admin";
                    o.PasswordHash = s_hash;
                    o.ReadOnly = readOnly;
                    o.ServerId = serverId;
                    o.StatsInterval = TimeSpan.FromMilliseconds(500);
                    configure?.Invoke(o);
                });
            }));
        if (redisUrl is not null)
        {
            _ = host.Services.GetRequiredService<ParleyServer>().Sockets;
            await host.Services.GetRequiredService<RedisAdapterStatus>().WaitUntilReadyAsync().WithTimeout();
        }
        return host;
    }

    private static async Task<(string H, string Id)> ConnectAsync(NodeDriver driver, string url, object auth, string transport = "websocket")
    {
        var h = await driver.CallForHandleAsync("sio.connect", new { url, opts = new { transports = new[] { transport }, auth, forceNew = true } });
        var connect = await driver.NextEventAsync(h, "connect");
        return (h, connect!["id"]!.GetValue<string>());
    }

    private static Task<JsonNode?> NextAsync(NodeDriver driver, string h, string name, Func<JsonArray, bool>? where = null) =>
        driver.NextEventAsync(h, "event", where: d => d?["name"]?.GetValue<string>() == name && (where is null || where(d!["args"]!.AsArray())));

    private static Task EmitAsync(NodeDriver driver, string h, string name, params object?[] args) =>
        driver.CallAsync("sio.emit", new { h, @event = name, args });

    [Fact]
    public async Task The_UI_signs_in_sees_sockets_and_rooms_live_and_acts_on_them()
    {
        await using var host = await StartNodeAsync("node-a");
        await using var driver = NodeDriver.Start();
        var app1 = await ConnectAsync(driver, host.Url, new { room = "lobby" });

        // A wrong password is refused with upstream's message; the right one gets a session id.
        var bad = await driver.CallForHandleAsync("sio.connect", new { url = host.Url + "/admin", opts = new { transports = new[] { "websocket" }, auth = new { username = "admin", password = "wrong" }, forceNew = true } });
        Assert.Equal("invalid credentials", (await driver.NextEventAsync(bad, "connect_error"))!["message"]!.GetValue<string>());
        var admin = await ConnectAsync(driver, host.Url + "/admin", new { username = "admin", password = Password });
        var session = (await NextAsync(driver, admin.H, "session"))!["args"]![0]!.GetValue<string>();
        Assert.Matches("^[0-9a-f]{16}$", session);
        var features = (await NextAsync(driver, admin.H, "config"))!["args"]![0]!["supportedFeatures"]!.AsArray().Select(f => f!.GetValue<string>());
        Assert.Equal(["EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS"], features);

        var all = (await NextAsync(driver, admin.H, "all_sockets"))!["args"]![0]!.AsArray();
        var listed = all.Single(s => s!["id"]!.GetValue<string>() == app1.Id)!;
        Assert.Equal("/", listed["nsp"]!.GetValue<string>());
        Assert.Equal("websocket", listed["transport"]!.GetValue<string>());
        Assert.Equal(12, listed["clientId"]!.GetValue<string>().Length);
        Assert.Equal("user-" + app1.Id[..4], listed["data"]!["name"]!.GetValue<string>());
        Assert.Null(listed["data"]!["_admin"]);
        Assert.Equal(new[] { "lobby", app1.Id }.Order(), listed["rooms"]!.AsArray().Select(r => r!.GetValue<string>()).Order());
        Assert.Equal("127.0.0.1", listed["handshake"]!["address"]!.GetValue<string>());
        Assert.NotNull(listed["handshake"]!["headers"]!["host"]);
        Assert.Contains(all, s => s!["nsp"]!.GetValue<string>() == "/admin" && s["id"]!.GetValue<string>() == admin.Id);

        var stats = (await NextAsync(driver, admin.H, "server_stats", a => a[0]!["clientsCount"]!.GetValue<int>() >= 2))!["args"]![0]!;
        Assert.Equal("node-a", stats["serverId"]!.GetValue<string>());
        Assert.Equal(Environment.ProcessId, stats["pid"]!.GetValue<int>());
        Assert.Contains(stats["namespaces"]!.AsArray(), n => n!["name"]!.GetValue<string>() == "/" && n["socketsCount"]!.GetValue<int>() == 1);
        await NextAsync(driver, admin.H, "server_stats", a => a[0]!["aggregatedEvents"]!.AsArray().Any(e => e!["type"]!.GetValue<string>() == "packetsIn"));

        // Live: a socket connects over polling and upgrades, joins a room.
        var app2 = await ConnectAsync(driver, host.Url, new { room = "lobby" }, transport: "polling");
        var connected = (await NextAsync(driver, admin.H, "socket_connected", a => a[0]!["id"]!.GetValue<string>() == app2.Id))!["args"]!.AsArray();
        Assert.Equal("polling", connected[0]!["transport"]!.GetValue<string>());
        Assert.True(DateTimeOffset.TryParse(connected[1]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture, out _));

        // Operations: join, emit to that room, leave, disconnect one socket.
        await EmitAsync(driver, admin.H, "join", "/", "vip", app2.Id);
        await NextAsync(driver, admin.H, "room_joined", a => a[1]!.GetValue<string>() == "vip" && a[2]!.GetValue<string>() == app2.Id);
        await EmitAsync(driver, admin.H, "emit", "/", "vip", "hello", "from the admin UI");
        Assert.Equal("from the admin UI", (await driver.NextSocketEventAsync(app2.H, "hello"))[0]!.GetValue<string>());
        await EmitAsync(driver, admin.H, "leave", "/", "vip", app2.Id);
        await NextAsync(driver, admin.H, "room_left", a => a[1]!.GetValue<string>() == "vip" && a[2]!.GetValue<string>() == app2.Id);
        await EmitAsync(driver, admin.H, "_disconnect", "/", false, app2.Id);
        Assert.Equal("io server disconnect", (await driver.NextEventAsync(app2.H, "disconnect"))!["reason"]!.GetValue<string>());
        var gone = (await NextAsync(driver, admin.H, "socket_disconnected", a => a[1]!.GetValue<string>() == app2.Id))!["args"]!.AsArray();
        Assert.Equal("/", gone[0]!.GetValue<string>());
        Assert.Equal("server namespace disconnect", gone[2]!.GetValue<string>());
        // Only the socket named: the other one, in the same room, is still there.
        await EmitAsync(driver, admin.H, "emit", "/", null, "still-here");
        await driver.NextSocketEventAsync(app1.H, "still-here");

        // The UI comes back with its session id instead of the password.
        var again = await ConnectAsync(driver, host.Url + "/admin", new { sessionId = session });
        await NextAsync(driver, again.H, "config");
        var forged = await driver.CallForHandleAsync("sio.connect", new { url = host.Url + "/admin", opts = new { transports = new[] { "websocket" }, auth = new { sessionId = "0123456789abcdef" }, forceNew = true } });
        Assert.Equal("invalid credentials", (await driver.NextEventAsync(forged, "connect_error"))!["message"]!.GetValue<string>());
    }

    /// <summary>Signs in to the admin namespace; the refusal's message, or null when connected.</summary>
    private static async Task<string?> SignInAsync(NodeDriver driver, string url, object auth)
    {
        var h = await driver.CallForHandleAsync("sio.connect", new { url = url + "/admin", opts = new { transports = new[] { "websocket" }, auth, forceNew = true } });
        var (name, data) = await driver.NextOfAsync(h, ["connect", "connect_error"]);
        await driver.CallAsync("sio.disconnect", new { h });
        return name == "connect" ? null : data!["message"]!.GetValue<string>();
    }

    [Fact]
    public async Task After_too_many_failed_sign_ins_an_address_is_refused_unchecked_until_its_window_ends()
    {
        await using var host = await StartNodeAsync("node-limit", configure: o =>
        {
            o.MaxFailedSignIns = 3;
            o.FailedSignInWindow = TimeSpan.FromSeconds(2);
        });
        await using var driver = NodeDriver.Start();
        var wrong = new { username = "admin", password = "guess" };
        var right = new { username = "admin", password = Password };
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("invalid credentials", await SignInAsync(driver, host.Url, wrong));
        }
        // A forged session id counts as a failure too; here the address is already out of attempts.
        Assert.Equal("too many attempts, retry later", await SignInAsync(driver, host.Url, right));
        Assert.Equal("too many attempts, retry later", await SignInAsync(driver, host.Url, new { sessionId = "0123456789abcdef" }));
        // Refused attempts do not extend the window: the right password works once it ends.
        await TestTimeouts.Eventually(async () => await SignInAsync(driver, host.Url, right) is null, because: "the window ends");
        // And success clears the count: three more failures are needed before the next refusal.
        Assert.Equal("invalid credentials", await SignInAsync(driver, host.Url, wrong));
        Assert.Null(await SignInAsync(driver, host.Url, right));
    }

    [Fact]
    public async Task An_assignment_to_socket_data_reaches_the_UI_as_socket_updated()
    {
        await using var host = await StartNodeAsync("node-data");
        await using var driver = NodeDriver.Start();
        var app = await ConnectAsync(driver, host.Url, new { room = "lobby" });
        var admin = await ConnectAsync(driver, host.Url + "/admin", new { username = "admin", password = Password });
        await NextAsync(driver, admin.H, "all_sockets");

        var socket = host.Services.GetRequiredService<ParleyServer>().Sockets.Sockets[app.Id];
        socket.Data["status"] = "away";
        var updated = (await NextAsync(driver, admin.H, "socket_updated", a => a[0]!["id"]!.GetValue<string>() == app.Id))!["args"]![0]!;
        Assert.Equal("/", updated["nsp"]!.GetValue<string>());
        Assert.Equal("away", updated["data"]!["status"]!.GetValue<string>());
        Assert.Equal("user-" + app.Id[..4], updated["data"]!["name"]!.GetValue<string>());
        Assert.Null(updated["data"]!["_admin"]);

        socket.Data.Remove("status");
        var removed = (await NextAsync(driver, admin.H, "socket_updated", a => a[0]!["id"]!.GetValue<string>() == app.Id))!["args"]![0]!;
        Assert.Null(removed["data"]!["status"]);
    }

    [Fact]
    public async Task Read_only_offers_no_operation_and_ignores_them()
    {
        await using var host = await StartNodeAsync("node-ro", readOnly: true);
        await using var driver = NodeDriver.Start();
        var app = await ConnectAsync(driver, host.Url, new { room = "lobby" });
        var admin = await ConnectAsync(driver, host.Url + "/admin", new { username = "admin", password = Password });
        var features = (await NextAsync(driver, admin.H, "config"))!["args"]![0]!["supportedFeatures"]!.AsArray().Select(f => f!.GetValue<string>());
        Assert.Equal(["AGGREGATED_EVENTS"], features);

        await EmitAsync(driver, admin.H, "_disconnect", "/", true, app.Id);
        await EmitAsync(driver, admin.H, "join", "/", "vip", app.Id);
        // The admin socket's packets are handled in order: once its own disconnect is seen, the two above were too.
        await driver.CallAsync("sio.disconnect", new { h = admin.H });
        var io = host.Services.GetRequiredService<ParleyServer>();
        await TestTimeouts.Eventually(() => io.Of("/admin").Sockets.Count == 0, because: "the admin socket is gone");
        var socket = io.Sockets.Sockets[app.Id];
        Assert.True(socket.Connected);
        Assert.DoesNotContain("vip", socket.Rooms);
    }

    [Fact]
    public async Task In_a_mixed_cluster_with_a_Node_admin_ui_node_each_UI_sees_and_disconnects_the_other_nodes_sockets()
    {
        await using var parley = await StartNodeAsync("node-parley", redisUrl: redis.Url);
        // test/js/redis-peer.mjs: socket.io 4.8 + @socket.io/redis-adapter + @socket.io/admin-ui's instrument().
        await using var node = NodeDriver.Start("redis-peer.mjs", new Dictionary<string, string>
        {
            ["PEER_MODE"] = "classic",
            ["PEER_REDIS"] = redis.Url,
            ["PEER_ADMIN_HASH"] = s_hash,
            ["PEER_SERVER_ID"] = "node-js",
        });
        var nodeUrl = $"http://127.0.0.1:{(await node.NextEventAsync("peer", "listening"))!["port"]!.GetValue<int>()}";
        var io = parley.Services.GetRequiredService<ParleyServer>();
        foreach (var nsp in new[] { "/", "/admin" })
        {
            var adapter = io.Of(nsp).Adapter;
            await TestTimeouts.Eventually(async () => await adapter.ServerCountAsync() == 2, because: $"both nodes serve {nsp}");
        }
        await using var driver = NodeDriver.Start();

        // Parley's UI, a socket on the Node node.
        var onNode = await ConnectAsync(driver, nodeUrl, new { rooms = new[] { "lobby" } });
        var parleyUi = await ConnectAsync(driver, parley.Url + "/admin", new { username = "admin", password = Password });
        var all = (await NextAsync(driver, parleyUi.H, "all_sockets"))!["args"]![0]!.AsArray();
        var listed = all.Single(s => s!["id"]!.GetValue<string>() == onNode.Id)!;
        Assert.Equal("websocket", listed["transport"]!.GetValue<string>());
        Assert.Equal(12, listed["clientId"]!.GetValue<string>().Length);
        Assert.Contains("lobby", listed["rooms"]!.AsArray().Select(r => r!.GetValue<string>()));
        await NextAsync(driver, parleyUi.H, "server_stats", s => s[0]!["serverId"]!.GetValue<string>() == "node-js");
        await EmitAsync(driver, parleyUi.H, "_disconnect", "/", false, onNode.Id);
        Assert.Equal("io server disconnect", (await driver.NextEventAsync(onNode.H, "disconnect"))!["reason"]!.GetValue<string>());
        await NextAsync(driver, parleyUi.H, "socket_disconnected", s => s[1]!.GetValue<string>() == onNode.Id);

        // The Node node's UI, a socket on Parley: the same password (bcryptjs checks Parley's hash format).
        var onParley = await ConnectAsync(driver, parley.Url, new { room = "lobby" });
        var nodeUi = await ConnectAsync(driver, nodeUrl + "/admin", new { username = "admin", password = Password });
        all = (await NextAsync(driver, nodeUi.H, "all_sockets"))!["args"]![0]!.AsArray();
        listed = all.Single(s => s!["id"]!.GetValue<string>() == onParley.Id)!;
        Assert.Equal("websocket", listed["transport"]!.GetValue<string>());
        Assert.Equal(12, listed["clientId"]!.GetValue<string>().Length);
        Assert.Equal("user-" + onParley.Id[..4], listed["data"]!["name"]!.GetValue<string>());
        Assert.Contains("lobby", listed["rooms"]!.AsArray().Select(r => r!.GetValue<string>()));
        await NextAsync(driver, nodeUi.H, "server_stats", s => s[0]!["serverId"]!.GetValue<string>() == "node-parley");
        await EmitAsync(driver, nodeUi.H, "_disconnect", "/", false, onParley.Id);
        Assert.Equal("io server disconnect", (await driver.NextEventAsync(onParley.H, "disconnect"))!["reason"]!.GetValue<string>());
        await NextAsync(driver, nodeUi.H, "socket_disconnected", s => s[1]!.GetValue<string>() == onParley.Id);
    }

    [Fact]
    public async Task On_two_Redis_nodes_the_UI_of_one_sees_and_disconnects_the_sockets_of_the_other()
    {
        await using var a = await StartNodeAsync("node-a", redisUrl: redis.Url);
        await using var b = await StartNodeAsync("node-b", redisUrl: redis.Url);
        await using var driver = NodeDriver.Start();
        foreach (var node in new[] { a, b })
        {
            var adapter = node.Services.GetRequiredService<ParleyServer>().Of("/admin").Adapter;
            await TestTimeouts.Eventually(async () => await adapter.ServerCountAsync() == 2, because: "both nodes serve /admin");
        }
        var onB = await ConnectAsync(driver, b.Url, new { room = "lobby" });
        var admin = await ConnectAsync(driver, a.Url + "/admin", new { username = "admin", password = Password });

        var all = (await NextAsync(driver, admin.H, "all_sockets"))!["args"]![0]!.AsArray();
        var listed = all.Single(s => s!["id"]!.GetValue<string>() == onB.Id)!;
        Assert.Equal("websocket", listed["transport"]!.GetValue<string>());
        Assert.Equal(12, listed["clientId"]!.GetValue<string>().Length);
        Assert.Contains("lobby", listed["rooms"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Null(listed["data"]!["_admin"]);

        // Both nodes report to the UI connected to A.
        await NextAsync(driver, admin.H, "server_stats", s => s[0]!["serverId"]!.GetValue<string>() == "node-b");
        await NextAsync(driver, admin.H, "server_stats", s => s[0]!["serverId"]!.GetValue<string>() == "node-a");

        // B's events reach A's UI; A's UI acts on B's socket.
        var second = await ConnectAsync(driver, b.Url, new { room = "lobby" });
        await NextAsync(driver, admin.H, "socket_connected", s => s[0]!["id"]!.GetValue<string>() == second.Id);
        await EmitAsync(driver, admin.H, "_disconnect", "/", false, onB.Id);
        Assert.Equal("io server disconnect", (await driver.NextEventAsync(onB.H, "disconnect"))!["reason"]!.GetValue<string>());
        await NextAsync(driver, admin.H, "socket_disconnected", s => s[1]!.GetValue<string>() == onB.Id);
    }
}

using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Parley.Testing;

namespace Parley.Chat.Tests;

/// <summary>
/// Parley's chat and the seeds' chat written the usual Node way (test/js/seed-chat.mjs: socket.io 4.8, express-session
/// with connect-redis, @socket.io/redis-adapter) on one real Redis: the same sessions, the same room <c>chat</c>,
/// messages, presence and the first chat page's <c>toServer</c>/<c>toClient</c> in both directions.
/// </summary>
public sealed class ChatSeedTwinTests : IAsyncLifetime
{
    private RedisServer _redis = null!;
    private ChatHost _parley = null!;
    private NodeProcess _seed = null!;
    private string _seedUrl = "";
    private NodeDriver _clients = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        // The twin uses @socket.io/redis-adapter's classic adapter: so must this node.
        _parley = await ChatHost.StartAsync("--redis", _redis.Url, "--redis-adapter", "classic");
        _seed = NodeProcess.Start("seed-chat.mjs", new Dictionary<string, string>
        {
            ["REDIS_URL"] = _redis.Url,
            ["SECRETS"] = new JsonArray(ChatHost.Secret).ToJsonString(),
        });
        var line = await _seed.Output.ReadLineAsync().WithTimeout() ?? throw new InvalidOperationException("seed-chat.mjs exited: " + _seed.Stderr);
        _seedUrl = "http://127.0.0.1:" + JsonNode.Parse(line)!["port"]!.GetValue<int>();
        _clients = NodeDriver.Start();
        // Both servers' adapters see each other before anyone chats.
        var adapter = _parley.App.Services.GetRequiredService<ParleyServer>().Sockets.Adapter;
        await TestTimeouts.Eventually(async () => await adapter.ServerCountAsync() == 2, because: "Parley sees the Node server");
    }

    public async Task DisposeAsync()
    {
        await _clients.DisposeAsync();
        await _seed.DisposeAsync();
        await _parley.DisposeAsync();
        await _redis.DisposeAsync();
    }

    /// <summary>Logs in on the Node app (express-session + connect-redis) and returns the cookie pair.</summary>
    private async Task<string> LoginOnSeedAsync(string name)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = new Uri(_seedUrl), Timeout = TestTimeouts.Default };
        var response = await http.PostAsJsonAsync("/login", new { name }).WithTimeout();
        response.EnsureSuccessStatusCode();
        var setCookie = response.Headers.GetValues("Set-Cookie").Single();
        return setCookie[..setCookie.IndexOf(';', StringComparison.Ordinal)];
    }

    private async Task<string> ConnectAsync(string url, string cookie)
    {
        var h = await _clients.CallForHandleAsync("sio.connect", new
        {
            url,
            opts = new JsonObject { ["transports"] = new JsonArray("websocket"), ["extraHeaders"] = new JsonObject { ["cookie"] = cookie } },
        });
        await _clients.NextEventAsync(h, "connect");
        return h;
    }

    private Task<JsonNode?> EmitAsync(string h, string ev, params object?[] args) =>
        _clients.CallAsync("sio.emit", new { h, @event = ev, args, ack = true, timeout = 10_000 });

    private async Task<JsonNode> NextPresenceAsync(string h, Func<JsonNode, bool> where)
    {
        while (true)
        {
            var presence = (await _clients.NextSocketEventAsync(h, "presence"))[0]!;
            if (where(presence))
            {
                return presence;
            }
        }
    }

    private static string[] Names(JsonNode? array) => [.. array!.AsArray().Select(u => u!.GetValue<string>())];

    [Fact]
    public async Task Messages_presence_and_toServer_cross_both_ways()
    {
        var ann = await ConnectAsync(_parley.Url, await _parley.LoginAsync("Ann"));
        var bob = await ConnectAsync(_seedUrl, await LoginOnSeedAsync("Bob"));

        // Presence: Bob's arrival on Node reaches Ann on Parley; Parley's users list sees Node's sockets.
        await NextPresenceAsync(ann, p => p["room"]!.GetValue<string>() == "chat" && Names(p["joined"]).Contains("Bob"));
        Assert.Equal(["Ann", "Bob"], Names((await EmitAsync(ann, "join", "chat"))!["users"]));
        var carol = await ConnectAsync(_parley.Url, await _parley.LoginAsync("Carol"));
        await NextPresenceAsync(bob, p => p["room"]!.GetValue<string>() == "chat" && Names(p["joined"]).Contains("Carol"));

        // Messages, Parley → Node and Node → Parley.
        Assert.True((await EmitAsync(ann, "message", new { text = "from parley" }))!["ok"]!.GetValue<bool>());
        foreach (var h in new[] { bob, ann, carol })
        {
            var atBob = (await _clients.NextSocketEventAsync(h, "message"))[0]!;
            Assert.Equal(("from parley", "Ann", "chat"), (atBob["text"]!.GetValue<string>(), atBob["user"]!.GetValue<string>(), atBob["room"]!.GetValue<string>()));
        }
        Assert.True((await EmitAsync(bob, "message", new { text = "from node" }))!["ok"]!.GetValue<bool>());
        foreach (var h in new[] { ann, carol, bob })
        {
            var atParley = (await _clients.NextSocketEventAsync(h, "message"))[0]!;
            Assert.Equal(("from node", "Bob"), (atParley["text"]!.GetValue<string>(), atParley["user"]!.GetValue<string>()));
        }

        // Seed 002: toServer on either side reaches everyone in chat on both.
        await _clients.CallAsync("sio.emit", new { h = ann, @event = "toServer", args = new object[] { "<i>hi</i>" } });
        Assert.Equal("<b>Ann:</b> &lt;i&gt;hi&lt;/i&gt;<br>", (await _clients.NextSocketEventAsync(bob, "toClient"))[0]!.GetValue<string>());
        await _clients.NextSocketEventAsync(ann, "toClient");
        await _clients.CallAsync("sio.emit", new { h = bob, @event = "toServer", args = new object[] { "yo & co" } });
        Assert.Equal("<b>Bob:</b> yo &amp; co<br>", (await _clients.NextSocketEventAsync(ann, "toClient"))[0]!.GetValue<string>());

        // Leaving, both ways.
        await _clients.CallAsync("sio.disconnect", new { h = carol });
        await NextPresenceAsync(bob, p => p["room"]!.GetValue<string>() == "chat" && Names(p["left"]).Contains("Carol"));
        await _clients.CallAsync("sio.disconnect", new { h = bob });
        await NextPresenceAsync(ann, p => p["room"]!.GetValue<string>() == "chat" && Names(p["left"]).Contains("Bob"));
    }

    [Fact]
    public async Task A_session_made_by_either_app_is_valid_on_the_other()
    {
        var fromNode = await LoginOnSeedAsync("Erin");
        var onParley = await ConnectAsync(_parley.Url, fromNode);
        Assert.True((await EmitAsync(onParley, "message", new { text = "x" }))!["ok"]!.GetValue<bool>());
        Assert.Equal("Erin", (await _clients.NextSocketEventAsync(onParley, "message"))[0]!["user"]!.GetValue<string>());

        var fromParley = await _parley.LoginAsync("Finn");
        var onNode = await ConnectAsync(_seedUrl, fromParley);
        Assert.True((await EmitAsync(onNode, "message", new { text = "y" }))!["ok"]!.GetValue<bool>());
        Assert.Equal("Finn", (await _clients.NextSocketEventAsync(onNode, "message"))[0]!["user"]!.GetValue<string>());
    }
}

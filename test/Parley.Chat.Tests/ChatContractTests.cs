using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Parley.Testing;

namespace Parley.Chat.Tests;

/// <summary>
/// The chat's HTTP and Socket.IO contract (docs/chat.md) with the official socket.io-client. The
/// same tests run on one node (<see cref="SingleNodeChatContractTests"/>) and on two nodes sharing a real Redis
/// (<see cref="RedisClusterChatContractTests"/>), where the second person is always on the other node: everything
/// the contract says about "everyone in the room" and "every node" is then checked across processes' adapters.
/// </summary>
public abstract class ChatContractTests : IAsyncLifetime
{
    private ChatHost[] _nodes = [];
    private NodeDriver _node = null!;

    /// <summary>The first node: where Ann logs in and connects.</summary>
    private ChatHost _host => _nodes[0];

    /// <summary>Where the other people connect: the second node when there is one.</summary>
    private ChatHost _other => _nodes[^1];

    protected abstract Task<ChatHost[]> StartNodesAsync();

    public async Task InitializeAsync()
    {
        _nodes = await StartNodesAsync();
        _node = NodeDriver.Start();
    }

    public virtual async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        foreach (var host in _nodes)
        {
            await host.DisposeAsync();
        }
    }

    private async Task<string> ConnectAsync(string? cookie, object? extraOpts = null, ChatHost? host = null)
    {
        var opts = new JsonObject { ["transports"] = new JsonArray("websocket") };
        if (cookie is not null)
        {
            opts["extraHeaders"] = new JsonObject { ["cookie"] = cookie };
        }
        if (extraOpts is not null)
        {
            foreach (var (k, v) in JsonSerializerNode(extraOpts))
            {
                opts[k] = v?.DeepClone();
            }
        }
        return await _node.CallForHandleAsync("sio.connect", new { url = (host ?? _host).Url, opts });
    }

    private static JsonObject JsonSerializerNode(object o) => System.Text.Json.JsonSerializer.SerializeToNode(o)!.AsObject();

    /// <summary>Logs in on the first node and connects to <paramref name="host"/> (the first node by default).</summary>
    private async Task<string> ConnectAsUserAsync(string name, ChatHost? host = null)
    {
        var cookie = await _host.LoginAsync(name);
        var h = await ConnectAsync(cookie, host: host);
        await _node.NextEventAsync(h, "connect");
        return h;
    }

    private Task<JsonNode?> EmitAsync(string h, string ev, params object?[] args) =>
        _node.CallAsync("sio.emit", new { h, @event = ev, args, ack = true, timeout = 5000 });

    [Fact]
    public async Task Pages_login_me_and_health_follow_the_contract()
    {
        var (client, _) = _host.NewClient();
        using (client)
        {
            var login = await client.GetStringAsync("/").WithTimeout();
            Assert.Contains("id=\"login\"", login);
            Assert.Contains("name=\"name\"", login);
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/me").WithTimeout()).StatusCode);
            Assert.Equal("ok", await client.GetStringAsync("/healthz").WithTimeout());
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/socket.io/socket.io.js").WithTimeout()).StatusCode);

            foreach (var bad in new[] { "", "   ", new string('x', 33) })
            {
                var refused = await client.PostAsJsonAsync("/login", new { name = bad }).WithTimeout();
                Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
                Assert.Contains("name must be", await refused.Content.ReadAsStringAsync());
            }
            var response = await client.PostAsJsonAsync("/login", new { name = "  Ann  " }).WithTimeout();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("Ann", (await response.Content.ReadFromJsonAsync<JsonObject>())!["name"]!.GetValue<string>());
            Assert.Equal("Ann", (await client.GetFromJsonAsync<JsonObject>("/api/me").WithTimeout())!["name"]!.GetValue<string>());
            Assert.Contains("id=\"messages\"", await client.GetStringAsync("/").WithTimeout());
        }
    }

    [Fact]
    public async Task Form_login_answers_303_to_the_chat_page()
    {
        var (client, _) = _host.NewClient();
        using (client)
        {
            var response = await client.PostAsync("/login", new FormUrlEncodedContent([new("name", "Bea")])).WithTimeout();
            Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
            Assert.Equal("/", response.Headers.Location!.ToString());
            Assert.Contains("id=\"send\"", await client.GetStringAsync("/").WithTimeout());
        }
    }

    [Fact]
    public async Task Connections_without_a_valid_session_are_refused_with_unauthorized()
    {
        var anonymous = await ConnectAsync(null);
        var error = await _node.NextEventAsync(anonymous, "connect_error");
        Assert.Equal("unauthorized", error!["message"]!.GetValue<string>());

        var forged = await ConnectAsync("connect.sid=s%3Aabcdefabcdefabcdefabcdefabcdefab.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        Assert.Equal("unauthorized", (await _node.NextEventAsync(forged, "connect_error"))!["message"]!.GetValue<string>());

        // A valid cookie from another site's page (cross-site WebSocket hijacking) is refused too.
        var cookie = await _host.LoginAsync("Victim");
        var hijack = await ConnectAsync(cookie + "", new { extraHeaders = new { cookie, origin = "http://evil.example" } });
        Assert.Equal("unauthorized", (await _node.NextEventAsync(hijack, "connect_error"))!["message"]!.GetValue<string>());
        Assert.True(TestLog.Contains("foreign origin"));
    }

    [Fact]
    public async Task The_sender_name_comes_from_the_session_never_the_payload()
    {
        var ann = await ConnectAsUserAsync("Ann");
        var ack = await EmitAsync(ann, "message", new { text = "hello", user = "Mallory", room = "chat" });
        Assert.True(ack!["ok"]!.GetValue<bool>());
        var message = (await _node.NextSocketEventAsync(ann, "message"))[0]!;
        Assert.Equal("Ann", message["user"]!.GetValue<string>());
        Assert.Equal("hello", message["text"]!.GetValue<string>());
        Assert.Equal("chat", message["room"]!.GetValue<string>());
        Assert.Equal(ack!["id"]!.GetValue<string>(), message["id"]!.GetValue<string>());
        Assert.True(message["ts"]!.GetValue<long>() > 1_700_000_000_000);
    }

    [Fact]
    public async Task Rooms_are_isolated_and_bad_messages_get_an_error_ack()
    {
        var ann = await ConnectAsUserAsync("Ann");
        var bob = await ConnectAsUserAsync("Bob", _other);
        var joined = await EmitAsync(ann, "join", "r1");
        Assert.True(joined!["ok"]!.GetValue<bool>());

        Assert.True((await EmitAsync(ann, "message", new { room = "r1", text = "only r1" }))!["ok"]!.GetValue<bool>());
        Assert.Equal("only r1", (await _node.NextSocketEventAsync(ann, "message"))[0]!["text"]!.GetValue<string>());
        Assert.True(await _node.ReceivesNoneAsync(bob, "event", TimeSpan.FromMilliseconds(500), d => d?["name"]?.GetValue<string>() == "message"));

        var notMember = await EmitAsync(bob, "message", new { room = "r1", text = "sneaky" });
        Assert.False(notMember!["ok"]!.GetValue<bool>());
        Assert.False((await EmitAsync(bob, "message", new { text = "" }))!["ok"]!.GetValue<bool>());
        var tooLong = await EmitAsync(bob, "message", new { text = new string('a', 2001) });
        Assert.False(tooLong!["ok"]!.GetValue<bool>());
        Assert.Contains("2000", tooLong!["error"]!.GetValue<string>());
        Assert.True((await EmitAsync(bob, "message", new { text = new string('a', 2000) }))!["ok"]!.GetValue<bool>());

        Assert.True((await EmitAsync(ann, "leave", "r1"))!["ok"]!.GetValue<bool>());
        Assert.False((await EmitAsync(ann, "message", new { room = "r1", text = "gone" }))!["ok"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Join_returns_the_last_50_messages_oldest_first()
    {
        var ann = await ConnectAsUserAsync("Ann");
        Assert.True((await EmitAsync(ann, "join", "history"))!["ok"]!.GetValue<bool>());
        for (var i = 0; i < 55; i++)
        {
            Assert.True((await EmitAsync(ann, "message", new { room = "history", text = "m" + i }))!["ok"]!.GetValue<bool>());
        }
        var bob = await ConnectAsUserAsync("Bob", _other);
        var answer = (await EmitAsync(bob, "join", "history"))!;
        var history = answer["history"]!.AsArray();
        Assert.Equal(50, history.Count);
        Assert.Equal("m5", history[0]!["text"]!.GetValue<string>());
        Assert.Equal("m54", history[49]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task Seed_002_toServer_reaches_everyone_in_chat_escaped()
    {
        var cookie = await _host.LoginAsync("<b>Eve</b>");
        var eve = await ConnectAsync(cookie);
        await _node.NextEventAsync(eve, "connect");
        var ann = await ConnectAsUserAsync("Ann", _other);
        await _node.CallAsync("sio.emit", new { h = eve, @event = "toServer", args = new object[] { "<script>alert(1)</script> & \"hi\"" } });
        foreach (var h in new[] { eve, ann })
        {
            var html = (await _node.NextSocketEventAsync(h, "toClient"))[0]!.GetValue<string>();
            Assert.Equal("<b>&lt;b&gt;Eve&lt;/b&gt;:</b> &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;hi&quot;<br>", html);
        }
    }

    [Fact]
    public async Task Presence_is_sent_as_deltas_and_join_acks_list_the_room()
    {
        var ann = await ConnectAsUserAsync("Ann");
        var annJoin = (await EmitAsync(ann, "join", "p"))!;
        Assert.Equal(["Ann"], Names(annJoin["users"]));
        var bob = await ConnectAsUserAsync("Bob", _other);
        var bobJoin = (await EmitAsync(bob, "join", "p"))!;
        Assert.Equal(["Ann", "Bob"], Names(bobJoin["users"]));
        var users = await WaitForUsers(ann, "p", Names(annJoin["users"]), ["Ann", "Bob"]);
        await _node.CallAsync("sio.disconnect", new { h = bob });
        await WaitForUsers(ann, "p", users, ["Ann"]);
    }

    [Fact]
    public async Task A_person_counts_once_however_many_tabs_on_whichever_nodes()
    {
        var carol = await ConnectAsUserAsync("Carol");
        var carolJoin = (await EmitAsync(carol, "join", "tabs"))!;
        var cookie = await _host.LoginAsync("Ann");
        var tab1 = await ConnectAsync(cookie);
        await _node.NextEventAsync(tab1, "connect");
        Assert.True((await EmitAsync(tab1, "join", "tabs"))!["ok"]!.GetValue<bool>());
        var users = await WaitForUsers(carol, "tabs", Names(carolJoin["users"]), ["Ann", "Carol"]);

        // A second tab on the other node: in the users list once, and no presence at all.
        var tab2 = await ConnectAsync(cookie, host: _other);
        await _node.NextEventAsync(tab2, "connect");
        Assert.Equal(["Ann", "Carol"], Names((await EmitAsync(tab2, "join", "tabs"))!["users"]));
        Assert.True((await EmitAsync(tab1, "leave", "tabs"))!["ok"]!.GetValue<bool>());
        Assert.True(await _node.ReceivesNoneAsync(carol, "event", TimeSpan.FromMilliseconds(600),
            d => d?["name"]?.GetValue<string>() == "presence" && d["args"]![0]!["room"]!.GetValue<string>() == "tabs"));

        // The last tab leaving is the person leaving.
        await _node.CallAsync("sio.disconnect", new { h = tab2 });
        await WaitForUsers(carol, "tabs", users, ["Carol"]);
    }

    [Fact]
    public async Task Rooms_the_server_keeps_are_refused_with_an_error_ack()
    {
        var ann = await ConnectAsUserAsync("Ann");
        var bobCookie = await _host.LoginAsync("Bob");
        var bob = await ConnectAsync(bobCookie, host: _other);
        var bobId = (await _node.NextEventAsync(bob, "connect"))!["id"]!.GetValue<string>();
        var annId = (await _node.CallAsync("sio.state", new { h = ann }))!["id"]!.GetValue<string>();
        foreach (var room in new[] { bobId, annId, "parley:session:x", "parley:chat:person:Bob", "a\u0001b", new string('r', 65), "  ", "AAAAAAAAAAAAAAAAAAA_" })
        {
            var refused = (await EmitAsync(ann, "join", room))!;
            Assert.False(refused["ok"]!.GetValue<bool>(), room);
            Assert.False(string.IsNullOrEmpty(refused["error"]!.GetValue<string>()));
        }
        // Writing to one's own id room (a socket is always in it) is refused too, and Bob hears nothing.
        Assert.False((await EmitAsync(ann, "message", new { room = annId, text = "x" }))!["ok"]!.GetValue<bool>());
        Assert.False((await EmitAsync(ann, "leave", annId))!["ok"]!.GetValue<bool>());
        Assert.True(await _node.ReceivesNoneAsync(bob, "event", TimeSpan.FromMilliseconds(300), d => d?["name"]?.GetValue<string>() == "message"));
        // 19 characters, or 20 with a character outside base64url, are ordinary names.
        Assert.True((await EmitAsync(ann, "join", "AAAAAAAAAAAAAAAAAAA"))!["ok"]!.GetValue<bool>());
        Assert.True((await EmitAsync(ann, "join", "AAAAAAAAAAAAAAAAAAA."))!["ok"]!.GetValue<bool>());
    }

    [Fact]
    public async Task The_rooms_of_a_person_are_bounded_across_tabs_and_nodes()
    {
        var cookie = await _host.LoginAsync("Ann");
        var tab1 = await ConnectAsync(cookie);
        await _node.NextEventAsync(tab1, "connect");
        for (var i = 1; i < 20; i++) // chat is the first of the 20
        {
            Assert.True((await EmitAsync(tab1, "join", "r" + i))!["ok"]!.GetValue<bool>());
        }
        var refused = (await EmitAsync(tab1, "join", "r20"))!;
        Assert.False(refused["ok"]!.GetValue<bool>());
        Assert.Contains("20", refused["error"]!.GetValue<string>());

        var tab2 = await ConnectAsync(cookie, host: _other);
        await _node.NextEventAsync(tab2, "connect");
        Assert.False((await EmitAsync(tab2, "join", "r20"))!["ok"]!.GetValue<bool>());
        Assert.True((await EmitAsync(tab2, "join", "r7"))!["ok"]!.GetValue<bool>()); // a room the person is in already
        Assert.True((await EmitAsync(tab1, "leave", "r1"))!["ok"]!.GetValue<bool>());
        Assert.True((await EmitAsync(tab2, "join", "r20"))!["ok"]!.GetValue<bool>());
    }

    private static string[] Names(JsonNode? array) => [.. array!.AsArray().Select(u => u!.GetValue<string>())];

    /// <summary>
    /// Applies <paramref name="room"/>'s presence deltas (left, then joined, as the page does) to
    /// <paramref name="users"/> until the set is <paramref name="expected"/>; changes close together may share a delta.
    /// </summary>
    private async Task<string[]> WaitForUsers(string h, string room, IEnumerable<string> users, string[] expected)
    {
        var set = new SortedSet<string>(users, StringComparer.Ordinal);
        while (!set.SequenceEqual(expected))
        {
            var presence = (await _node.NextSocketEventAsync(h, "presence"))[0]!;
            if (presence["room"]!.GetValue<string>() == room)
            {
                set.ExceptWith(Names(presence["left"]));
                set.UnionWith(Names(presence["joined"]));
            }
        }
        return [.. set];
    }

    [Fact]
    public async Task Logout_disconnects_the_sessions_sockets_and_ends_the_session()
    {
        var (client, cookies) = _host.NewClient();
        using (client)
        {
            (await client.PostAsJsonAsync("/login", new { name = "Ann" }).WithTimeout()).EnsureSuccessStatusCode();
            var cookie = "connect.sid=" + cookies.GetCookies(new Uri(_host.Url))["connect.sid"]!.Value;
            var tab1 = await ConnectAsync(cookie);
            var tab2 = await ConnectAsync(cookie, new { transports = new[] { "polling" } }, _other);
            await _node.NextEventAsync(tab1, "connect");
            await _node.NextEventAsync(tab2, "connect");

            (await client.PostAsync("/logout", content: null).WithTimeout()).EnsureSuccessStatusCode();

            Assert.Equal("io server disconnect", (await _node.NextEventAsync(tab1, "disconnect"))!["reason"]!.GetValue<string>());
            Assert.Equal("io server disconnect", (await _node.NextEventAsync(tab2, "disconnect"))!["reason"]!.GetValue<string>());
            var again = await ConnectAsync(cookie, host: _other);
            Assert.Equal("unauthorized", (await _node.NextEventAsync(again, "connect_error"))!["message"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Messages_reach_everyone_in_the_room_sender_included()
    {
        var ann = await ConnectAsUserAsync("Ann");
        var bob = await ConnectAsUserAsync("Bob", _other);
        Assert.True((await EmitAsync(bob, "join", "both"))!["ok"]!.GetValue<bool>());
        Assert.True((await EmitAsync(ann, "join", "both"))!["ok"]!.GetValue<bool>());
        var ack = await EmitAsync(ann, "message", new { room = "both", text = "to both" });
        foreach (var h in new[] { ann, bob })
        {
            var message = (await _node.NextSocketEventAsync(h, "message"))[0]!;
            Assert.Equal("to both", message["text"]!.GetValue<string>());
            Assert.Equal("Ann", message["user"]!.GetValue<string>());
            Assert.Equal(ack!["id"]!.GetValue<string>(), message["id"]!.GetValue<string>());
        }
    }
}

/// <summary>The contract on one node with the embedded defaults (memory sessions, in-memory adapter and history).</summary>
public sealed class SingleNodeChatContractTests : ChatContractTests
{
    protected override async Task<ChatHost[]> StartNodesAsync() => [await ChatHost.StartAsync()];
}

/// <summary>
/// The contract on two nodes started with <c>--redis</c> on one real redis-server: sessions, the Socket.IO adapter
/// and history all in Redis. A fresh server per test keeps rooms, sessions and history of one test from the next.
/// </summary>
public sealed class RedisClusterChatContractTests : ChatContractTests
{
    private RedisServer? _redis;

    protected override async Task<ChatHost[]> StartNodesAsync()
    {
        _redis = await RedisServer.StartAsync();
        return await ChatHost.StartClusterAsync(_redis.Url, 2);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class RedisClusterCollection : ICollectionFixture<RedisCluster>
{
    public const string Name = "redis-cluster";
}

/// <summary>
/// The contract on three nodes of the chat on a real Redis Cluster (3 primaries, 3 replicas), given its seed list,
/// with the sharded adapter: sessions and room histories hash to slots on every primary (a MOVED never reaches a
/// user), and rooms' channels live on different shards. The cluster is shared by the collection and emptied
/// (FLUSHALL on each primary) before each test.
/// </summary>
[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterShardedChatContractTests(RedisCluster cluster) : ChatContractTests
{
    protected override async Task<ChatHost[]> StartNodesAsync()
    {
        foreach (var primary in await cluster.PrimariesAsync())
        {
            await primary.CliAsync("FLUSHALL");
        }
        return await ChatHost.StartClusterAsync(cluster.Url, 3, "--redis-adapter", "sharded");
    }
}

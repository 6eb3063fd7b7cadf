using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Parley.Redis;
using Parley.Sessions.Redis;
using Parley.Sessions.SocketIO;
using Parley.Testing;

namespace Parley.Sessions.Tests;

/// <summary>
/// Two Parley nodes with the Redis adapter and the Redis session store on one real redis-server: what a node tells
/// the others about its sockets, and logouts that reach every node.
/// </summary>
public sealed class ClusterSessionTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private readonly string _prefix = "sess-" + Guid.NewGuid().ToString("N")[..8] + ":";

    private Task<SocketApp> StartNodeAsync(NodeDriver? driver = null) => SocketApp.StartAsync(
        new()
        {
            Store = b => b.AddRedisStore(o =>
            {
                o.Url = redis.Url;
                o.Prefix = _prefix;
            }),
            Services = b => b.Services.AddParley().AddRedis(redis.Url, o => o.RequestsTimeout = TimeSpan.FromSeconds(3)),
            Io = io =>
            {
                io.UseSessions();
                _ = io.Of("/public"); // a namespace that does not use sessions: browsers send it the cookie all the same
            },
        },
        driver);

    [Fact]
    public async Task A_remote_fetchSockets_never_shows_the_session_cookie_or_the_signed_value()
    {
        await using var a = await StartNodeAsync();
        await using var b = await StartNodeAsync();
        var login = await a.LoginAsync("ann");
        var signed = login.Body;
        var cookieValue = login.CookiePair["connect.sid=".Length..];

        var byCookie = await a.ConnectAsync(login.CookiePair + "; theme=dark");
        var byAuth = await a.ConnectAsync(auth: new JsonObject { ["session"] = signed, ["room"] = "lobby" });
        var onPublic = await SioClient.ConnectAsync(a.Driver, a.Url + "/public", cookie: "theme=dark; " + login.CookiePair);
        Assert.True(byCookie.Connected && byAuth.Connected && onPublic.Connected);

        // Each namespace's adapter subscribes on its own: wait until node b sees node a's sockets in both.
        IReadOnlyList<RemoteSocket> main = [], onPublicNsp = [];
        await TestTimeouts.Eventually(async () => (main = await b.Io.FetchSocketsAsync()).Count == 2 &&
            (onPublicNsp = await b.Io.Of("/public").FetchSocketsAsync()).Count == 1, because: "node b sees node a's three sockets");
        var all = main.Concat(onPublicNsp).ToArray();
        Assert.Equal(3, all.Length);
        foreach (var socket in all)
        {
            Assert.Null(socket.LocalSocket);
            var shared = JsonSerializer.Serialize(socket.Handshake.Headers) + socket.Handshake.Auth.GetRawText();
            Assert.DoesNotContain(signed, shared, StringComparison.Ordinal);
            Assert.DoesNotContain(cookieValue, shared, StringComparison.Ordinal);
            Assert.DoesNotContain(login.SessionId, shared, StringComparison.Ordinal);
            Assert.DoesNotContain("connect.sid", shared, StringComparison.Ordinal);
        }
        // What is not a credential is still there.
        Assert.Equal("theme=dark", all.Single(s => s.Id == byCookie.Id).Handshake.GetHeader("cookie"));
        Assert.Equal("theme=dark", all.Single(s => s.Id == onPublic.Id).Handshake.GetHeader("cookie"));
        Assert.Equal("""{"room":"lobby"}""", all.Single(s => s.Id == byAuth.Id).Handshake.Auth.GetRawText());

        // Locally, the socket's own handshake is as the client sent it.
        var local = (await a.Io.FetchSocketsAsync().WithTimeout()).Single(s => s.Id == byCookie.Id);
        Assert.Contains(login.CookiePair, local.LocalSocket!.Handshake.GetHeader("cookie"), StringComparison.Ordinal);
        Assert.Equal("theme=dark", local.Handshake.GetHeader("cookie"));
    }

    [Fact]
    public async Task A_logout_on_one_node_disconnects_the_sessions_sockets_on_the_other()
    {
        await using var a = await StartNodeAsync();
        await using var b = await StartNodeAsync();
        var ann = await a.LoginAsync("ann");
        var bob = await a.LoginAsync("bob");
        var annOnA = await a.ConnectAsync(ann.CookiePair);
        var bobOnA = await a.ConnectAsync(bob.CookiePair);
        await TestTimeouts.Eventually(async () => (await b.Io.FetchSocketsAsync()).Count == 2, because: "node b sees node a's sockets");

        Assert.Equal(HttpStatusCode.OK, (await b.LogoutAsync(ann.CookiePair)).Status);
        Assert.Equal("io server disconnect", await annOnA.DisconnectedAsync());
        Assert.Equal("bob", (await bobOnA.EmitWithAckAsync("whoami"))!.GetValue<string>());
        Assert.Equal("unauthorized", (await a.ConnectAsync(ann.CookiePair)).Error);
    }
}

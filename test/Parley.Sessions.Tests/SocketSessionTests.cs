using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Parley.Adapters;
using Parley.Hosting;
using Parley.Sessions.PostgreSql;
using Parley.Sessions.Redis;
using Parley.Sessions.SocketIO;
using Parley.Testing;

namespace Parley.Sessions.Tests;

/// <summary>
/// Sessions in the Socket.IO handshake, end to end: HTTP logins on Kestrel, the official socket.io-client, and the
/// memory, PostgreSQL and Redis stores.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SocketSessionTests(PostgresServer postgres, RedisServer redis) : IClassFixture<RedisServer>
{
    private async Task<Action<IParleySessionsBuilder>> StoreAsync(string store)
    {
        switch (store)
        {
            case "memory":
                return _ => { };
            case "postgres":
                var connectionString = postgres.ConnectionStringFor(await postgres.CreateDatabaseAsync("sockets"));
                return b => b.AddPostgreSqlStore(o => o.ConnectionString = connectionString);
            case "redis":
                var prefix = "sess-" + Guid.NewGuid().ToString("N")[..8] + ":";
                return b => b.AddRedisStore(o =>
                {
                    o.Url = redis.Url;
                    o.Prefix = prefix;
                });
            default:
                throw new ArgumentOutOfRangeException(nameof(store));
        }
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("postgres")]
    [InlineData("redis")]
    public async Task A_socket_save_after_HTTP_only_touched_the_session_keeps_the_user_logged_in(string store)
    {
        // With resave false, HTTP requests only touch the store (its expiry moves, the stored JSON's cookie.expires
        // does not). A socket handler's reload → change → save must not write that stale expiry back.
        var time = new ManualTimeProvider();
        await using var app = await SocketApp.StartAsync(new()
        {
            Time = time,
            Sessions = o => o.MaxAge = TimeSpan.FromHours(1),
            Store = await StoreAsync(store),
        });
        var login = await app.LoginAsync("ann");
        var client = await app.ConnectAsync(login.CookiePair);
        Assert.True(client.Connected, client.Error);

        time.Advance(TimeSpan.FromMinutes(50));
        Assert.Equal("ann", (await app.MeAsync(login.CookiePair)).Body);
        time.Advance(TimeSpan.FromMinutes(20));

        Assert.Equal("ok", (await client.EmitWithAckAsync("rename", "bea"))!.GetValue<string>());
        var me = await app.MeAsync(login.CookiePair);
        Assert.Equal(HttpStatusCode.OK, me.Status);
        Assert.Equal("bea", me.Body);
    }

    [Fact]
    public async Task Without_a_session_the_handshake_is_refused_as_unauthorized()
    {
        await using var app = await SocketApp.StartAsync();
        Assert.Equal("unauthorized", (await app.ConnectAsync()).Error);
        Assert.Equal("unauthorized", (await app.ConnectAsync("connect.sid=s%3Aforged.AAAA")).Error);
        Assert.Equal("unauthorized", (await app.ConnectAsync(auth: new JsonObject { ["session"] = "s:forged.AAAA" })).Error);
    }

    [Theory]
    [InlineData("websocket")]
    [InlineData("polling")]
    public async Task The_session_cookie_connects_and_the_socket_carries_the_session(string transport)
    {
        await using var app = await SocketApp.StartAsync();
        var login = await app.LoginAsync("ann");
        var client = await app.ConnectAsync(login.CookiePair, transport: transport);
        Assert.True(client.Connected, client.Error);
        Assert.Equal("ann", (await client.EmitWithAckAsync("whoami"))!.GetValue<string>());
        var socket = await app.SocketAsync(client.Id!);
        Assert.Equal(login.SessionId, socket.GetSession()!.Id);
    }

    [Fact]
    public async Task The_signed_value_in_the_CONNECT_auth_payload_connects_a_client_without_cookies()
    {
        await using var app = await SocketApp.StartAsync();
        var login = await app.LoginAsync("ann");
        Assert.StartsWith("s:", login.Body, StringComparison.Ordinal);

        var client = await app.ConnectAsync(auth: new JsonObject { ["session"] = login.Body });
        Assert.True(client.Connected, client.Error);
        Assert.Equal("ann", (await client.EmitWithAckAsync("whoami"))!.GetValue<string>());

        // The cookie's URL-encoded value is accepted too.
        var encoded = await app.ConnectAsync(auth: new JsonObject { ["session"] = login.CookiePair["connect.sid=".Length..] });
        Assert.True(encoded.Connected, encoded.Error);

        // A tampered signature is not.
        var tampered = login.Body[..^2] + (login.Body[^2] == 'A' ? "B" : "A") + login.Body[^1];
        Assert.Equal("unauthorized", (await app.ConnectAsync(auth: new JsonObject { ["session"] = tampered })).Error);
    }

    [Theory]
    [InlineData("50%off-")]
    [InlineData("%41%42-")]
    public async Task Ids_from_a_custom_Genid_verify_in_the_cookie_and_in_the_auth_payload(string prefix)
    {
        await using var app = await SocketApp.StartAsync(new() { Sessions = o => o.Genid = _ => prefix + ParleySessionOptions.GenerateSessionId() });
        var login = await app.LoginAsync("ann");
        Assert.StartsWith("s:" + prefix, login.Body, StringComparison.Ordinal);
        Assert.Equal("ann", (await app.MeAsync(login.CookiePair)).Body);

        var byAuth = await app.ConnectAsync(auth: new JsonObject { ["session"] = login.Body });
        Assert.True(byAuth.Connected, byAuth.Error);
        Assert.Equal("ann", (await byAuth.EmitWithAckAsync("whoami"))!.GetValue<string>());
        var byCookie = await app.ConnectAsync(login.CookiePair);
        Assert.True(byCookie.Connected, byCookie.Error);
    }

    [Fact]
    public async Task Required_false_lets_sockets_without_a_session_in_with_no_session()
    {
        await using var app = await SocketApp.StartAsync(new() { Sockets = o => o.Required = false });
        var anonymous = await app.ConnectAsync();
        Assert.True(anonymous.Connected, anonymous.Error);
        Assert.Null(await anonymous.EmitWithAckAsync("whoami"));
        Assert.Null((await app.SocketAsync(anonymous.Id!)).GetSession());

        var login = await app.LoginAsync("ann");
        var known = await app.ConnectAsync(login.CookiePair);
        Assert.Equal("ann", (await known.EmitWithAckAsync("whoami"))!.GetValue<string>());
    }

    [Fact]
    public async Task Validate_refuses_a_session_that_fails_it()
    {
        await using var app = await SocketApp.StartAsync(new() { Sockets = o => o.Validate = s => s.Get<string>("name") != "mallory" });
        var ann = await app.LoginAsync("ann");
        Assert.True((await app.ConnectAsync(ann.CookiePair)).Connected);
        var mallory = await app.LoginAsync("mallory");
        Assert.Equal("unauthorized", (await app.ConnectAsync(mallory.CookiePair)).Error);
        Assert.Equal("unauthorized", (await app.ConnectAsync(auth: new JsonObject { ["session"] = mallory.Body })).Error);
    }

    [Fact]
    public async Task Logging_out_disconnects_the_sessions_sockets_and_later_handshakes_are_refused()
    {
        await using var app = await SocketApp.StartAsync();
        var ann = await app.LoginAsync("ann");
        var bob = await app.LoginAsync("bob");
        var annSocket = await app.ConnectAsync(ann.CookiePair);
        var annByAuth = await app.ConnectAsync(auth: new JsonObject { ["session"] = ann.Body });
        var bobSocket = await app.ConnectAsync(bob.CookiePair);

        Assert.Equal(HttpStatusCode.OK, (await app.LogoutAsync(ann.CookiePair)).Status);
        Assert.Equal("io server disconnect", await annSocket.DisconnectedAsync());
        Assert.Equal("io server disconnect", await annByAuth.DisconnectedAsync());
        Assert.Equal("bob", (await bobSocket.EmitWithAckAsync("whoami"))!.GetValue<string>());
        Assert.Equal("unauthorized", (await app.ConnectAsync(ann.CookiePair)).Error);
    }

    [Fact]
    public async Task A_logout_whose_cluster_disconnect_fails_logs_the_failure()
    {
        await using var app = await SocketApp.StartAsync(new()
        {
            Services = b => b.Services.Replace(ServiceDescriptor.Singleton(new ParleyAdapterFactory(nsp => new UnreachableClusterAdapter(nsp)))),
        });
        var ann = await app.LoginAsync("ann");
        var client = await app.ConnectAsync(ann.CookiePair);
        Assert.Equal(HttpStatusCode.OK, (await app.LogoutAsync(ann.CookiePair)).Status);
        // This node's sockets go; the failure to reach the others is logged with its exception.
        Assert.Equal("io server disconnect", await client.DisconnectedAsync());
        await TestTimeouts.Eventually(() => TestLog.Provider.Entries.Any(e => e.EventId.Id == 4053 && e.Exception is IOException { Message: UnreachableClusterAdapter.Failure }),
            because: "the failed disconnect is logged");
    }

    [Theory]
    [InlineData("websocket")]
    [InlineData("polling")]
    public async Task A_cookie_handshake_from_another_origin_is_refused_on_both_transports(string transport)
    {
        await using var app = await SocketApp.StartAsync(new() { Sockets = o => o.AllowedOrigins.Add("https://app.example") });
        var login = await app.LoginAsync("ann");
        var port = app.Host.Port;
        async Task<string?> ErrorFrom(string? origin) => (await app.ConnectAsync(login.CookiePair, transport: transport, origin: origin)).Error;

        Assert.Null(await ErrorFrom($"http://127.0.0.1:{port}"));
        Assert.Null(await ErrorFrom("https://app.example:443"));
        // No Origin: not a browser (browsers send it on every WebSocket and cross-origin request).
        Assert.Null(await ErrorFrom(null));
        Assert.Equal("unauthorized", await ErrorFrom("http://evil.example"));
        Assert.Equal("unauthorized", await ErrorFrom($"https://127.0.0.1:{port}"));
        Assert.Equal("unauthorized", await ErrorFrom($"http://127.0.0.1:{port + 1}"));
        Assert.Equal("unauthorized", await ErrorFrom("null"));
        Assert.Equal("unauthorized", await ErrorFrom("http://app.example"));
        Assert.Contains(TestLog.Provider.Entries, e => e.EventId.Id == 4050 && e.Message.Contains("'http://evil.example'", StringComparison.Ordinal));

        // The signed value in auth is not a cookie a browser attaches by itself: any origin may present it.
        var byAuth = await SioClient.ConnectAsync(app.Driver, app.Url, auth: new JsonObject { ["session"] = login.Body }, transport: transport, origin: "http://evil.example");
        Assert.True(byAuth.Connected, byAuth.Error);
    }

    /// <summary>An adapter whose cluster cannot be reached: local operations work, cluster-wide disconnects fail.</summary>
    private sealed class UnreachableClusterAdapter(Namespace nsp) : ParleyAdapter(nsp)
    {
        public const string Failure = "the cluster is unreachable";

        public override Task DisconnectSocketsAsync(BroadcastOptions options, bool close)
        {
            DisconnectSocketsLocal(options, close);
            return Task.FromException(new IOException(Failure));
        }
    }
}

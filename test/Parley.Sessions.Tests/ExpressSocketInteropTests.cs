using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Parley.Sessions.PostgreSql;
using Parley.Sessions.Redis;
using Parley.Testing;

namespace Parley.Sessions.Tests;

/// <summary>
/// Socket-level interop with a real Express app (express 4, express-session 1.18, socket.io 4.8 sharing the session
/// middleware through io.engine.use) on the same store and secrets, with connect-pg-simple (PostgreSQL) and
/// connect-redis (Redis, <c>sess:</c> keys): a login on either is honoured by the other's HTTP and Socket.IO
/// handshake, a logout on either ends it on both, and rotated-out secrets still verify.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ExpressSocketInteropTests(PostgresServer postgres, RedisServer redis) : IClassFixture<RedisServer>
{
    private const long MaxAgeMs = 3_600_000;

    /// <summary>Where both apps keep sessions: a fresh PostgreSQL database, or the class's redis-server.</summary>
    private sealed record Backing(string Store, string? Database);

    private async Task<Backing> NewBackingAsync(string store) =>
        new(store, store == "pg" ? await postgres.CreateDatabaseAsync("sockinterop") : null);

    private Task<ExpressApp> StartExpressAsync(Backing backing, string[] secrets) => backing.Store == "pg"
        ? ExpressApp.StartAsync(postgres.UrlFor(backing.Database!), secrets, MaxAgeMs)
        : ExpressApp.StartRedisAsync(redis.Url, secrets, MaxAgeMs);

    private Task<SocketApp> StartParleyAsync(Backing backing, string[] secrets) => SocketApp.StartAsync(new()
    {
        Sessions = o =>
        {
            o.Secrets.Clear();
            foreach (var secret in secrets)
            {
                o.Secrets.Add(secret);
            }
            o.MaxAge = TimeSpan.FromMilliseconds(MaxAgeMs);
        },
        Store = backing.Store == "pg"
            ? b => b.AddPostgreSqlStore(o => o.ConnectionString = postgres.ConnectionStringFor(backing.Database!))
            : b => b.AddRedisStore(redis.Url),
        // As express-app.mjs's io.use: a session with a name.
        Sockets = o => o.Validate = s => s.ContainsKey("name"),
    });

    private async Task<(ExpressApp Express, SocketApp Parley)> StartBothAsync(string store, params string[] secrets)
    {
        var backing = await NewBackingAsync(store);
        // Express first: connect-pg-simple creates the table.
        var express = await StartExpressAsync(backing, secrets.Length == 0 ? ["keyboard cat"] : secrets);
        return (express, await StartParleyAsync(backing, secrets.Length == 0 ? ["keyboard cat"] : secrets));
    }

    private async Task AssertStoredAsync(string store, string sessionId, bool stored)
    {
        if (store == "redis")
        {
            Assert.Equal(stored ? "1" : "0", (await redis.CliAsync("EXISTS", "sess:" + sessionId).WithTimeout()).Trim());
        }
    }

    [Theory]
    [InlineData("pg")]
    [InlineData("redis")]
    public async Task A_login_on_Express_is_honoured_by_Parley_over_HTTP_and_at_the_handshake(string store)
    {
        var (express, parley) = await StartBothAsync(store);
        await using var _ = express;
        await using var __ = parley;
        var login = await InteropApps.LoginAsync(express.Client, "Zoë");
        Assert.Equal(HttpStatusCode.OK, login.Status);
        await AssertStoredAsync(store, login.SessionId, stored: true);

        Assert.Equal("Zoë", (await parley.MeAsync(login.CookiePair)).Body);
        foreach (var transport in (string[])["websocket", "polling"])
        {
            var client = await parley.ConnectAsync(login.CookiePair, transport: transport);
            Assert.True(client.Connected, client.Error);
            Assert.Equal("Zoë", (await client.EmitWithAckAsync("whoami"))!.GetValue<string>());
        }
        // Express's own handshake, for comparison.
        var onExpress = await SioClient.ConnectAsync(parley.Driver, express.Url, login.CookiePair);
        Assert.True(onExpress.Connected, onExpress.Error + express.Stderr);
    }

    [Theory]
    [InlineData("pg")]
    [InlineData("redis")]
    public async Task A_login_on_Parley_is_honoured_by_Express_over_HTTP_and_at_its_socket_io_handshake(string store)
    {
        var (express, parley) = await StartBothAsync(store);
        await using var _ = express;
        await using var __ = parley;
        var login = await parley.LoginAsync("ann");
        await AssertStoredAsync(store, login.SessionId, stored: true);

        Assert.Equal("""{"name":"ann"}""", (await InteropApps.MeAsync(express.Client, login.CookiePair)).Body);
        foreach (var transport in (string[])["websocket", "polling"])
        {
            var client = await SioClient.ConnectAsync(parley.Driver, express.Url, login.CookiePair, transport: transport);
            Assert.True(client.Connected, client.Error + express.Stderr);
            Assert.Equal("ann", (await client.EmitWithAckAsync("whoami"))!.GetValue<string>());
        }
        // Without the cookie Express refuses, as Parley does.
        Assert.Equal("unauthorized", (await SioClient.ConnectAsync(parley.Driver, express.Url)).Error);
    }

    [Theory]
    [InlineData("pg")]
    [InlineData("redis")]
    public async Task A_logout_on_Express_ends_the_session_on_both(string store)
    {
        var (express, parley) = await StartBothAsync(store);
        await using var _ = express;
        await using var __ = parley;
        var login = await parley.LoginAsync("bob");
        Assert.True((await SioClient.ConnectAsync(parley.Driver, express.Url, login.CookiePair)).Connected);

        Assert.Equal(HttpStatusCode.OK, (await InteropApps.LogoutAsync(express.Client, login.CookiePair)).Status);
        await AssertStoredAsync(store, login.SessionId, stored: false);
        Assert.Equal(HttpStatusCode.Unauthorized, (await parley.MeAsync(login.CookiePair)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await InteropApps.MeAsync(express.Client, login.CookiePair)).Status);
        Assert.Equal("unauthorized", (await parley.ConnectAsync(login.CookiePair)).Error);
        Assert.Equal("unauthorized", (await SioClient.ConnectAsync(parley.Driver, express.Url, login.CookiePair)).Error);
    }

    [Theory]
    [InlineData("pg")]
    [InlineData("redis")]
    public async Task A_logout_on_Parley_ends_the_session_on_both(string store)
    {
        var (express, parley) = await StartBothAsync(store);
        await using var _ = express;
        await using var __ = parley;
        var login = await InteropApps.LoginAsync(express.Client, "cid");
        var parleySocket = await parley.ConnectAsync(login.CookiePair);
        Assert.True(parleySocket.Connected, parleySocket.Error);

        Assert.Equal(HttpStatusCode.OK, (await parley.LogoutAsync(login.CookiePair)).Status);
        Assert.Equal("io server disconnect", await parleySocket.DisconnectedAsync());
        await AssertStoredAsync(store, login.SessionId, stored: false);
        Assert.Equal(HttpStatusCode.Unauthorized, (await InteropApps.MeAsync(express.Client, login.CookiePair)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await parley.MeAsync(login.CookiePair)).Status);
        Assert.Equal("unauthorized", (await SioClient.ConnectAsync(parley.Driver, express.Url, login.CookiePair)).Error);
        Assert.Equal("unauthorized", (await parley.ConnectAsync(login.CookiePair)).Error);
    }

    [Theory]
    [InlineData("pg")]
    [InlineData("redis")]
    public async Task A_cookie_signed_with_a_rotated_out_secret_verifies_on_both_handshakes(string store)
    {
        var backing = await NewBackingAsync(store);
        string cookie;
        await using (var old = await StartExpressAsync(backing, ["old-secret"]))
        {
            cookie = (await InteropApps.LoginAsync(old.Client, "dee")).CookiePair;
        }
        await using var express = await StartExpressAsync(backing, ["new-secret", "old-secret"]);
        await using var parley = await StartParleyAsync(backing, ["new-secret", "old-secret"]);

        Assert.Equal("dee", (await parley.MeAsync(cookie)).Body);
        var onParley = await parley.ConnectAsync(cookie);
        Assert.Equal("dee", (await onParley.EmitWithAckAsync("whoami"))!.GetValue<string>());
        var onExpress = await SioClient.ConnectAsync(parley.Driver, express.Url, cookie);
        Assert.Equal("dee", (await onExpress.EmitWithAckAsync("whoami"))!.GetValue<string>());

        // A secret that was never configured is refused by both.
        await using var stranger = await StartParleyAsync(backing, ["new-secret"]);
        Assert.Equal("unauthorized", (await stranger.ConnectAsync(cookie)).Error);
    }
}

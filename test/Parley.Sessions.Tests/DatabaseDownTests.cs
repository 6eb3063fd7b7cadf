using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Parley.Sessions.PostgreSql;
using Parley.Sessions.Redis;
using Parley.Testing;

namespace Parley.Sessions.Tests;

/// <summary>
/// PostgreSQL stopped mid-run. express-session passes the store's error to <c>next(err)</c>, so Express answers 500;
/// Parley answers 500 too, logs, keeps running, and recovers when the database is back. This class owns its cluster
/// (a class fixture) because it stops it.
/// </summary>
public class DatabaseDownTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task Requests_fail_with_500_and_a_log_line_while_the_database_is_down_then_recover()
    {
        var database = await server.CreateDatabaseAsync("down");
        await using var express = await ExpressApp.StartAsync(server.UrlFor(database), ["keyboard cat"], 3_600_000);
        await using var parley = await InteropApps.StartParleyAsync(server.ConnectionStringFor(database), ["keyboard cat"], TimeSpan.FromHours(1));
        using var client = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = parley.BaseUri };
        var login = await InteropApps.LoginAsync(client, "ann");
        Assert.Equal(HttpStatusCode.OK, (await InteropApps.MeAsync(client, login.CookiePair)).Status);

        await server.StopAsync().WithTimeout(TimeSpan.FromSeconds(30));
        try
        {
            // Loading the session fails: 500 on both, as express-session does with connect-pg-simple.
            var parleyMe = await InteropApps.MeAsync(client, login.CookiePair);
            var expressMe = await InteropApps.MeAsync(express.Client, login.CookiePair);
            Assert.Equal(HttpStatusCode.InternalServerError, expressMe.Status);
            Assert.Equal(HttpStatusCode.InternalServerError, parleyMe.Status);
            Assert.True(TestLog.Contains("The session store failed to load a session"));

            // Saving a new session fails: 500, logged, no cookie handed out for a session that was not stored.
            var newLogin = await InteropApps.LoginAsync(client, "bob");
            Assert.Equal(HttpStatusCode.InternalServerError, newLogin.Status);
            Assert.Empty(newLogin.SetCookies);
            Assert.True(TestLog.Contains("The session store failed to save, touch or destroy a session"));

            // Requests without a session cookie need no store read and still work.
            Assert.Equal(HttpStatusCode.Unauthorized, (await InteropApps.SendAsync(client, HttpMethod.Get, "/me")).Status);
        }
        finally
        {
            await server.StartAsync().WithTimeout(TimeSpan.FromSeconds(30));
        }

        // Back: the same cookie works again (pooled connections to the old server are discarded). Express's recovery is
        // not asserted: its pg pool did not answer again within the timeout in this set-up, which is not ours to test.
        await TestTimeouts.Eventually(async () => (await InteropApps.MeAsync(client, login.CookiePair)).Status == HttpStatusCode.OK, because: "Parley reads sessions again");
        Assert.Equal("""{"name":"ann"}""", (await InteropApps.MeAsync(client, login.CookiePair)).Body);
    }

    [Fact]
    public async Task A_handshake_while_the_database_is_down_is_refused_with_a_fixed_message_and_logged()
    {
        var database = await server.CreateDatabaseAsync("sockdown");
        var connectionString = server.ConnectionStringFor(database);
        await using var app = await SocketApp.StartAsync(new() { Store = b => b.AddPostgreSqlStore(o => o.ConnectionString = connectionString) });
        var login = await app.LoginAsync("ann");
        // A client without cookies, and browsers with the cookie on either transport: the HTTP session middleware
        // leaves Socket.IO requests alone, so each reaches the handshake, which loads the session and refuses cleanly.
        var auth = new System.Text.Json.Nodes.JsonObject { ["session"] = login.Body };
        Assert.True((await app.ConnectAsync(auth: auth)).Connected);
        Assert.True((await app.ConnectAsync(cookie: login.CookiePair, transport: "polling")).Connected);

        var earlier = TestLog.Provider.Entries.ToHashSet<object>(ReferenceEqualityComparer.Instance);
        await server.StopAsync().WithTimeout(TimeSpan.FromSeconds(30));
        try
        {
            var refused = await app.ConnectAsync(auth: auth);
            // Npgsql's message names the host and port: it must reach the log, not the client.
            Assert.Equal("session store unavailable", refused.Error);
            Assert.Equal("session store unavailable", (await app.ConnectAsync(cookie: login.CookiePair, transport: "polling")).Error);
            Assert.Equal("session store unavailable", (await app.ConnectAsync(cookie: login.CookiePair, transport: "websocket")).Error);
            // This test's entries only: the log is shared by the whole test process.
            var logged = TestLog.Provider.Entries.Where(e => e.EventId.Id == 4051 && !earlier.Contains(e)).ToArray();
            Assert.NotEmpty(logged);
            Assert.All(logged, e => Assert.IsAssignableFrom<Npgsql.NpgsqlException>(e.Exception));
        }
        finally
        {
            await server.StartAsync().WithTimeout(TimeSpan.FromSeconds(30));
        }
        await TestTimeouts.Eventually(async () => (await app.ConnectAsync(auth: auth)).Connected, because: "handshakes read sessions again");
    }

    [Fact]
    public async Task A_handshake_while_the_Redis_store_is_not_ready_is_refused_as_unavailable()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var app = await SocketApp.StartAsync(new() { Store = b => b.AddRedisStore(redis.Url) });
        var login = await app.LoginAsync("ann");
        var auth = new System.Text.Json.Nodes.JsonObject { ["session"] = login.Body };
        Assert.True((await app.ConnectAsync(auth: auth)).Connected);

        await redis.KillAsync();
        await TestTimeouts.Eventually(() => !app.Manager.Store.IsReady, because: "the Redis store notices");
        Assert.Equal("session store unavailable", (await app.ConnectAsync(auth: auth)).Error);
        Assert.Contains(TestLog.Provider.Entries, e => e.EventId.Id == 4052);

        await redis.RestartAsync();
        // Back, but empty (the test server keeps nothing on disk): the store answers again, the session is gone.
        await TestTimeouts.Eventually(async () => (await app.ConnectAsync(auth: auth)).Error == "unauthorized", because: "the Redis store is back");
    }
}

using System.Net;
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
        await Until.TrueAsync(async () => (await InteropApps.MeAsync(client, login.CookiePair)).Status == HttpStatusCode.OK, "Parley reads sessions again");
        Assert.Equal("""{"name":"ann"}""", (await InteropApps.MeAsync(client, login.CookiePair)).Body);
    }
}

using System.Net;
using System.Text.RegularExpressions;
using Parley.Testing;

namespace Parley.Sessions.Tests;

/// <summary>
/// A real Express app (express 4 + express-session 1.18 + connect-pg-simple 10 from npm) and Parley on the same
/// PostgreSQL table and secrets: each honours the other's logins and logouts, and both write the same bytes.
/// </summary>
[Collection(PostgresCollection.Name)]
public partial class ExpressInteropTests(PostgresServer server) : IAsyncLifetime
{
    private string _database = "";
    private TestWebHost? _parley;
    private ExpressApp? _express;
    private HttpClient? _parleyClient;

    private HttpClient Parley => _parleyClient!;

    private HttpClient Express => _express!.Client;

    public async Task InitializeAsync()
    {
        _database = await server.CreateDatabaseAsync("interop");
        _express = await ExpressApp.StartAsync(server.UrlFor(_database), ["keyboard cat"], 3_600_000);
        _parley = await InteropApps.StartParleyAsync(server.ConnectionStringFor(_database), ["keyboard cat"], TimeSpan.FromHours(1));
        _parleyClient = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = _parley.BaseUri };
    }

    public async Task DisposeAsync()
    {
        _parleyClient?.Dispose();
        if (_parley is not null)
        {
            await _parley.DisposeAsync();
        }
        if (_express is not null)
        {
            await _express.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_login_on_Express_is_honoured_by_Parley()
    {
        var login = await InteropApps.LoginAsync(Express, "Zoë");
        Assert.Equal(HttpStatusCode.OK, login.Status);
        var me = await InteropApps.MeAsync(Parley, login.CookiePair);
        Assert.Equal(HttpStatusCode.OK, me.Status);
        Assert.Equal("""{"name":"Zoë"}""", me.Body);
        // Unchanged session, rolling off: Parley, like express-session, sends no cookie.
        Assert.Empty(me.SetCookies);
    }

    [Fact]
    public async Task A_login_on_Parley_is_honoured_by_Express()
    {
        var login = await InteropApps.LoginAsync(Parley, "ann");
        Assert.Equal(HttpStatusCode.OK, login.Status);
        var me = await InteropApps.MeAsync(Express, login.CookiePair);
        Assert.Equal(HttpStatusCode.OK, me.Status);
        Assert.Equal("""{"name":"ann"}""", me.Body);
    }

    [Fact]
    public async Task A_logout_on_Express_ends_the_session_on_Parley()
    {
        var login = await InteropApps.LoginAsync(Parley, "bob");
        Assert.Equal(HttpStatusCode.OK, (await InteropApps.MeAsync(Express, login.CookiePair)).Status);
        Assert.Equal(HttpStatusCode.OK, (await InteropApps.LogoutAsync(Express, login.CookiePair)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await InteropApps.MeAsync(Parley, login.CookiePair)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await InteropApps.MeAsync(Express, login.CookiePair)).Status);
    }

    [Fact]
    public async Task A_logout_on_Parley_ends_the_session_on_Express()
    {
        var login = await InteropApps.LoginAsync(Express, "cid");
        Assert.Equal(HttpStatusCode.OK, (await InteropApps.MeAsync(Parley, login.CookiePair)).Status);
        Assert.Equal(HttpStatusCode.OK, (await InteropApps.LogoutAsync(Parley, login.CookiePair)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await InteropApps.MeAsync(Express, login.CookiePair)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await InteropApps.MeAsync(Parley, login.CookiePair)).Status);
        Assert.Equal("0", await server.PsqlAsync(_database, "SELECT count(*) FROM session").WithTimeout());
    }

    [Fact]
    public async Task A_cookie_signed_with_a_rotated_out_secret_verifies_on_both()
    {
        var database = await server.CreateDatabaseAsync("rotation");
        string cookie;
        await using (var oldExpress = await ExpressApp.StartAsync(server.UrlFor(database), ["old-secret"]))
        {
            cookie = (await InteropApps.LoginAsync(oldExpress.Client, "dee")).CookiePair;
        }
        await using var express = await ExpressApp.StartAsync(server.UrlFor(database), ["new-secret", "old-secret"]);
        await using var parley = await InteropApps.StartParleyAsync(server.ConnectionStringFor(database), ["new-secret", "old-secret"]);
        using var parleyClient = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = parley.BaseUri };
        var onExpress = await InteropApps.MeAsync(express.Client, cookie);
        var onParley = await InteropApps.MeAsync(parleyClient, cookie);
        Assert.Equal("""{"name":"dee"}""", onExpress.Body);
        Assert.Equal("""{"name":"dee"}""", onParley.Body);
        // Neither re-signs an unchanged session (docs/wire-formats.md §1.1 VERIFIED: set-cookie null).
        Assert.Empty(onExpress.SetCookies);
        Assert.Empty(onParley.SetCookies);
        // A new login on Parley is signed with the new secret, and Express accepts it.
        var fresh = await InteropApps.LoginAsync(parleyClient, "eve");
        Assert.Equal("""{"name":"eve"}""", (await InteropApps.MeAsync(express.Client, fresh.CookiePair)).Body);
    }

    [GeneratedRegex("\"expires\":\"[^\"]+\"")]
    private static partial Regex ExpiresValue();

    [GeneratedRegex("\"originalMaxAge\": ?(\\d+)")]
    private static partial Regex OriginalMaxAge();

    [Fact]
    public async Task Both_write_the_same_cookie_row_and_expire()
    {
        var fromExpress = await InteropApps.LoginAsync(Express, "Zoë");
        var fromParley = await InteropApps.LoginAsync(Parley, "Zoë");

        // Set-Cookie: same shape, attribute order and encoding; only the id, MAC and date differ.
        static string Shape(string setCookie) => Regex.Replace(
            Regex.Replace(setCookie, "s%3A[A-Za-z0-9_-]{32}\\.[A-Za-z0-9%]+", "s%3A<id>.<mac>"),
            "Expires=[^;]+", "Expires=<date>");
        Assert.Equal(Shape(fromExpress.SetCookie!), Shape(fromParley.SetCookie!));
        Assert.Equal("connect.sid=s%3A<id>.<mac>; Path=/; Expires=<date>; HttpOnly", Shape(fromParley.SetCookie!));

        // Stored JSON: byte for byte but for the expiry instant; expire = ceil(cookie.expires) in both.
        var rows = await server.PsqlAsync(_database,
            $"SELECT sess::text || '|' || (extract(epoch FROM expire)::bigint = ceil(extract(epoch FROM (sess->'cookie'->>'expires')::timestamptz))::bigint)::text FROM session WHERE sid IN ('{fromExpress.SessionId}', '{fromParley.SessionId}') ORDER BY sid = '{fromExpress.SessionId}' DESC").WithTimeout();
        var lines = rows.Split('\n');
        Assert.Equal(2, lines.Length);
        // express-session derives originalMaxAge from `expires - Date.now()`, so it stores 3599999 when a
        // millisecond passes in between (a loaded machine); Parley stores the configured max age exactly.
        var expressRow = ExpiresValue().Replace(lines[0], "\"expires\":\"<date>\"");
        var parleyRow = ExpiresValue().Replace(lines[1], "\"expires\":\"<date>\"");
        Assert.Matches("""^\{"cookie":\{"originalMaxAge":(3600000|359999\d),"expires":"<date>","httpOnly":true,"path":"/"\},"name":"Zoë"\}\|true$""", expressRow);
        Assert.Equal("""{"cookie":{"originalMaxAge":3600000,"expires":"<date>","httpOnly":true,"path":"/"},"name":"Zoë"}|true""", parleyRow);
    }

    [Fact]
    public async Task Parley_keeps_the_format_when_it_rewrites_an_Express_session()
    {
        var login = await InteropApps.LoginAsync(Express, "fay");
        await server.PsqlAsync(_database, $"UPDATE session SET sess = (sess::jsonb || '{{\"extra\":{{\"a\":[1,2]}}}}'::jsonb)::json WHERE sid = '{login.SessionId}'").WithTimeout();
        var before = await server.PsqlAsync(_database, $"SELECT sess::text FROM session WHERE sid = '{login.SessionId}'").WithTimeout();
        var relogin = await InteropApps.LoginAsync(Parley, "gus", login.CookiePair);
        Assert.Equal(HttpStatusCode.OK, relogin.Status);
        var after = await server.PsqlAsync(_database, $"SELECT sess::text FROM session WHERE sid = '{login.SessionId}'").WithTimeout();
        // The stored originalMaxAge is kept as Express wrote it (3600000, or 3599999 when a millisecond passed
        // inside express-session's constructor), as express-session's own Store.createSession keeps it.
        var storedMaxAge = OriginalMaxAge().Match(before).Groups[1].Value;
        Assert.Matches("^(3600000|359999\\d)$", storedMaxAge);
        Assert.StartsWith("{\"cookie\":{\"originalMaxAge\":" + storedMaxAge + ",\"expires\":", after, StringComparison.Ordinal);
        Assert.Contains("\"extra\":{\"a\":[1,2]}", after, StringComparison.Ordinal);
        Assert.Contains("\"name\":\"gus\"", after, StringComparison.Ordinal);
        Assert.NotEqual(before, after);
        Assert.Equal("""{"name":"gus"}""", (await InteropApps.MeAsync(Express, login.CookiePair)).Body);
    }
}

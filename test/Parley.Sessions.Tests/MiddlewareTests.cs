using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Parley.Testing;

namespace Parley.Sessions.Tests;

/// <summary>express-session's semantics (docs/wire-formats.md §1.4) over real HTTP against Kestrel.</summary>
public partial class MiddlewareTests
{
    [GeneratedRegex("^connect\\.sid=s%3A[A-Za-z0-9_-]{32}\\.[A-Za-z0-9%]{43,70}; Path=/; HttpOnly$")]
    private static partial Regex BrowserSessionCookie();

    private static int LogCount(string text) =>
        TestLog.Provider.Entries.Count(e => e.Category.StartsWith("Parley.Sessions", StringComparison.Ordinal) && e.Message.Contains(text, StringComparison.OrdinalIgnoreCase));

    [Fact]
    public async Task Unmodified_new_session_is_neither_saved_nor_sent()
    {
        await using var app = await SessionApp.StartAsync();
        var reply = await app.GetAsync("/peek");
        Assert.StartsWith("True|0|", reply.Body, StringComparison.Ordinal);
        Assert.Empty(reply.SetCookies);
        Assert.DoesNotContain("set", app.Store.OpNames);
    }

    [Fact]
    public async Task SaveUninitialized_saves_and_sends_a_new_session()
    {
        await using var app = await SessionApp.StartAsync(o => o.SaveUninitialized = true);
        var reply = await app.GetAsync("/peek");
        Assert.Matches(BrowserSessionCookie(), reply.SetCookie);
        Assert.Equal(["set"], app.Store.OpNames);
        Assert.Equal("""{"cookie":{"originalMaxAge":null,"expires":null,"httpOnly":true,"path":"/"}}""", await app.Store.Inner.GetAsync(reply.SessionId).WithTimeout());
    }

    [Fact]
    public async Task Modified_new_session_is_saved_and_sent_then_recognised()
    {
        await using var app = await SessionApp.StartAsync();
        var first = await app.PostAsync("/inc");
        Assert.Equal("1", first.Body);
        Assert.Matches(BrowserSessionCookie(), first.SetCookie);
        var signed = Uri.UnescapeDataString(first.CookiePair["connect.sid=".Length..]);
        Assert.Equal("s:" + CookieSignature.Sign(first.SessionId, "keyboard cat"), signed);
        Assert.Equal("""{"cookie":{"originalMaxAge":null,"expires":null,"httpOnly":true,"path":"/"},"n":1}""", await app.Store.Inner.GetAsync(first.SessionId).WithTimeout());

        var second = await app.GetAsync("/peek", first.CookiePair);
        Assert.Equal($"False|1|{first.SessionId}", second.Body);
        Assert.Empty(second.SetCookies);

        // Modified, but the cookie has no expiry: express-session does not resend it (shouldSetCookie).
        var third = await app.PostAsync("/inc", first.CookiePair);
        Assert.Equal("2", third.Body);
        Assert.Empty(third.SetCookies);
        Assert.Contains("\"n\":2", await app.Store.Inner.GetAsync(first.SessionId).WithTimeout(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_max_age_the_cookie_carries_Expires_and_no_Max_Age_and_is_resent_when_modified()
    {
        var time = new ManualTimeProvider(DateTimeOffset.Parse("2026-11-22T02:07:48.532Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var app = await SessionApp.StartAsync(o => o.MaxAge = TimeSpan.FromHours(1), time);
        var first = await app.PostAsync("/inc");
        Assert.EndsWith("; Path=/; Expires=Sun, 22 Nov 2026 03:07:48 GMT; HttpOnly", first.SetCookie, StringComparison.Ordinal);
        Assert.DoesNotContain("Max-Age", first.SetCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("""{"cookie":{"originalMaxAge":3600000,"expires":"2026-11-22T03:07:48.532Z","httpOnly":true,"path":"/"},"n":1}""", await app.Store.Inner.GetAsync(first.SessionId).WithTimeout());

        time.Advance(TimeSpan.FromMinutes(10));
        var second = await app.PostAsync("/inc", first.CookiePair);
        Assert.EndsWith("; Path=/; Expires=Sun, 22 Nov 2026 03:17:48 GMT; HttpOnly", second.SetCookie, StringComparison.Ordinal);

        time.Advance(TimeSpan.FromMinutes(10));
        var unchanged = await app.GetAsync("/peek", first.CookiePair);
        Assert.Empty(unchanged.SetCookies);
    }

    [Fact]
    public async Task Setting_Expires_remember_me_keeps_that_lifetime_through_the_commit_touch()
    {
        // session/cookie.js: the expires setter sets originalMaxAge, so touch() keeps the chosen lifetime.
        var time = new ManualTimeProvider(DateTimeOffset.Parse("2026-11-22T02:07:48.532Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var app = await SessionApp.StartAsync(o => o.MaxAge = TimeSpan.FromHours(1), time);
        var login = await app.PostAsync("/remember?days=30");
        Assert.EndsWith("; Path=/; Expires=Tue, 22 Dec 2026 02:07:48 GMT; HttpOnly", login.SetCookie, StringComparison.Ordinal);
        Assert.Equal("""{"cookie":{"originalMaxAge":2592000000,"expires":"2026-12-22T02:07:48.532Z","httpOnly":true,"path":"/"},"n":1}""", await app.Store.Inner.GetAsync(login.SessionId).WithTimeout());

        // A later modifying request rolls the expiry 30 days on, not one hour.
        time.Advance(TimeSpan.FromDays(1));
        var later = await app.PostAsync("/inc", login.CookiePair);
        Assert.EndsWith("; Path=/; Expires=Wed, 23 Dec 2026 02:07:48 GMT; HttpOnly", later.SetCookie, StringComparison.Ordinal);
        Assert.StartsWith("""{"cookie":{"originalMaxAge":2592000000,"expires":"2026-12-23T02:07:48.532Z",""", await app.Store.Inner.GetAsync(login.SessionId).WithTimeout(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Setting_Expires_to_null_makes_a_browser_session_cookie()
    {
        var time = new ManualTimeProvider();
        await using var app = await SessionApp.StartAsync(o => o.MaxAge = TimeSpan.FromHours(1), time);
        var login = await app.PostAsync("/remember?days=0");
        Assert.Matches(BrowserSessionCookie(), login.SetCookie);
        Assert.Equal("""{"cookie":{"originalMaxAge":null,"expires":null,"httpOnly":true,"path":"/"},"n":1}""", await app.Store.Inner.GetAsync(login.SessionId).WithTimeout());
        time.Advance(TimeSpan.FromHours(2));
        Assert.StartsWith("False|1|", (await app.GetAsync("/peek", login.CookiePair)).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resave_false_touches_an_unchanged_session_instead_of_saving_it()
    {
        var time = new ManualTimeProvider();
        await using var app = await SessionApp.StartAsync(o => o.MaxAge = TimeSpan.FromMinutes(30), time);
        var first = await app.PostAsync("/inc");
        var stored = await app.Store.Inner.GetAsync(first.SessionId).WithTimeout();
        app.Store.Ops.Clear();
        time.Advance(TimeSpan.FromMinutes(20));
        await app.GetAsync("/peek", first.CookiePair);
        Assert.Equal(["get", "touch"], app.Store.OpNames);
        var touch = app.Store.Ops.Last();
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromMinutes(30), touch.Record.Expires);
        // The JSON was not rewritten; the store's expiry moved: the session outlives its first 30 minutes.
        Assert.Equal(stored, await app.Store.Inner.GetAsync(first.SessionId).WithTimeout());
        time.Advance(TimeSpan.FromMinutes(20));
        Assert.StartsWith("False|1|", (await app.GetAsync("/peek", first.CookiePair)).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resave_true_saves_an_unchanged_session()
    {
        await using var app = await SessionApp.StartAsync(o => o.Resave = true);
        var first = await app.PostAsync("/inc");
        app.Store.Ops.Clear();
        var reply = await app.GetAsync("/peek", first.CookiePair);
        Assert.Equal(["get", "set"], app.Store.OpNames);
        Assert.Empty(reply.SetCookies);
    }

    [Fact]
    public async Task Rolling_sends_the_cookie_on_every_response_with_a_moving_expiry()
    {
        var time = new ManualTimeProvider(DateTimeOffset.Parse("2026-11-22T02:00:00.000Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var app = await SessionApp.StartAsync(o => { o.Rolling = true; o.MaxAge = TimeSpan.FromMinutes(5); }, time);
        var first = await app.PostAsync("/inc");
        time.Advance(TimeSpan.FromMinutes(2));
        var second = await app.GetAsync("/peek", first.CookiePair);
        Assert.Equal(first.CookiePair, second.CookiePair);
        Assert.Contains("Expires=Sun, 22 Nov 2026 02:07:00 GMT", second.SetCookie, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Destroy_removes_the_session_sends_no_cookie_and_raises_SessionDestroyed()
    {
        await using var app = await SessionApp.StartAsync();
        var keys = new List<string>();
        app.Manager.SessionDestroyed += (_, e) => keys.Add(e.SessionKey);
        var first = await app.PostAsync("/inc");
        var bye = await app.PostAsync("/destroy", first.CookiePair);
        Assert.Equal("bye", bye.Body);
        Assert.Empty(bye.SetCookies);
        Assert.Null(await app.Store.Inner.GetAsync(first.SessionId).WithTimeout());
        Assert.Equal([ParleySessionManager.ComputeSessionKey(first.SessionId)], keys);
        Assert.StartsWith("True|0|", (await app.GetAsync("/peek", first.CookiePair)).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Regenerate_replaces_the_id_and_destroys_the_old_session()
    {
        await using var app = await SessionApp.StartAsync();
        var first = await app.PostAsync("/inc");
        var regenerated = await app.PostAsync("/regenerate", first.CookiePair);
        Assert.Equal(regenerated.Body, regenerated.SessionId);
        Assert.NotEqual(first.SessionId, regenerated.SessionId);
        Assert.Null(await app.Store.Inner.GetAsync(first.SessionId).WithTimeout());
        Assert.Equal($"False|100|{regenerated.SessionId}", (await app.GetAsync("/peek", regenerated.CookiePair)).Body);
    }

    [Fact]
    public async Task A_cookie_signed_with_a_rotated_out_secret_verifies_and_is_not_resigned()
    {
        var store = new MemorySessionStore(Microsoft.Extensions.Options.Options.Create(new MemorySessionStoreOptions()));
        string cookie;
        string id;
        await using (var before = await SessionApp.StartAsync(o => { o.Secrets.Clear(); o.Secrets.Add("old-secret"); }, store: store))
        {
            var login = await before.PostAsync("/inc");
            cookie = login.CookiePair;
            id = login.SessionId;
        }
        await using var after = await SessionApp.StartAsync(o => { o.Secrets.Clear(); o.Secrets.Add("new-secret"); o.Secrets.Add("old-secret"); o.MaxAge = TimeSpan.FromHours(1); }, store: store);
        var peek = await after.GetAsync("/peek", cookie);
        Assert.Equal($"False|1|{id}", peek.Body);
        Assert.Empty(peek.SetCookies);
        var signed = await after.GetAsync("/signed", cookie);
        Assert.Equal("s:" + CookieSignature.Sign(id, "new-secret"), signed.Body);
    }

    [Theory]
    [InlineData("forged")]
    [InlineData("unsigned")]
    [InlineData("bad-percent")]
    [InlineData("other-secret")]
    [InlineData("empty")]
    public async Task Bad_cookies_get_a_new_session_and_a_log_line(string kind)
    {
        await using var app = await SessionApp.StartAsync();
        var login = await app.PostAsync("/inc");
        var id = login.SessionId;
        var cookie = kind switch
        {
            "forged" => "connect.sid=" + CookieCodec.EncodeUriComponent("s:" + id + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            "unsigned" => "connect.sid=" + id,
            "bad-percent" => "connect.sid=" + login.CookiePair["connect.sid=".Length..] + "%E0%A4%A",
            "other-secret" => "connect.sid=" + CookieCodec.EncodeUriComponent("s:" + CookieSignature.Sign(id, "not the secret")),
            _ => "connect.sid=",
        };
        var expectedLog = kind switch
        {
            "forged" or "other-secret" => "signature invalid",
            "unsigned" => "cookie unsigned",
            "bad-percent" => "bad percent-encoding",
            _ => null,
        };
        var logged = expectedLog is null ? 0 : LogCount(expectedLog);
        var reply = await app.GetAsync("/peek", cookie);
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.StartsWith("True|0|", reply.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(id, reply.Body, StringComparison.Ordinal);
        if (expectedLog is not null)
        {
            Assert.True(LogCount(expectedLog) > logged, expectedLog);
        }
    }

    [Fact]
    public async Task The_first_of_duplicate_cookies_wins()
    {
        await using var app = await SessionApp.StartAsync();
        var a = await app.PostAsync("/inc");
        var b = await app.PostAsync("/inc");
        await app.PostAsync("/inc", b.CookiePair);
        Assert.Equal($"False|1|{a.SessionId}", (await app.GetAsync("/peek", $"{a.CookiePair}; {b.CookiePair}")).Body);
        Assert.Equal($"False|2|{b.SessionId}", (await app.GetAsync("/peek", $"x=1; {b.CookiePair}; {a.CookiePair}")).Body);
        // cookie.parse keeps the first value even when it is bad: express-session then starts a new session.
        Assert.StartsWith("True|0|", (await app.GetAsync("/peek", $"connect.sid=garbage; {a.CookiePair}")).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_huge_cookie_header_is_parsed_and_an_oversized_one_is_refused_by_kestrel()
    {
        await using var app = await SessionApp.StartAsync();
        var a = await app.PostAsync("/inc");
        var filler = string.Join("; ", Enumerable.Range(0, 500).Select(i => $"c{i}={new string('v', 40)}"));
        Assert.True(filler.Length > 20_000);
        Assert.Equal($"False|1|{a.SessionId}", (await app.GetAsync("/peek", filler + "; " + a.CookiePair)).Body);
        var oversized = await app.GetAsync("/peek", "connect.sid=" + new string('x', 40_000));
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, oversized.Status);
        Assert.Equal($"False|1|{a.SessionId}", (await app.GetAsync("/peek", a.CookiePair)).Body);
    }

    [Fact]
    public async Task An_expired_session_is_replaced_by_a_new_one()
    {
        var time = new ManualTimeProvider();
        await using var app = await SessionApp.StartAsync(o => o.MaxAge = TimeSpan.FromMinutes(1), time);
        var a = await app.PostAsync("/inc");
        time.Advance(TimeSpan.FromMinutes(2));
        var reply = await app.GetAsync("/peek", a.CookiePair);
        Assert.StartsWith("True|0|", reply.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_record_that_is_not_session_json_is_destroyed_and_replaced()
    {
        await using var app = await SessionApp.StartAsync();
        var logged = LogCount("not a valid session JSON object");
        var bads = new[] { "not json", "{\"cookie\":", "[1,2]", "\"s\"", "{\"n\":1}", "{\"cookie\":5}" };
        foreach (var bad in bads)
        {
            var a = await app.PostAsync("/inc");
            await app.Store.Inner.SetAsync(a.SessionId, new SessionRecord(bad, null)).AsTask().WithTimeout();
            var reply = await app.GetAsync("/peek", a.CookiePair);
            Assert.Equal(HttpStatusCode.OK, reply.Status);
            Assert.StartsWith("True|0|", reply.Body, StringComparison.Ordinal);
            Assert.Null(await app.Store.Inner.GetAsync(a.SessionId).WithTimeout());
        }
        Assert.True(LogCount("not a valid session JSON object") >= logged + bads.Length);
    }

    [Fact]
    public async Task Secure_cookies_are_not_sent_over_http_but_the_session_is_saved()
    {
        await using var app = await SessionApp.StartAsync(o => o.Secure = CookieSecurePolicy.Always);
        var reply = await app.PostAsync("/inc");
        Assert.Empty(reply.SetCookies);
        Assert.Contains(app.Store.OpNames, op => op == "set");
    }

    [Fact]
    public async Task Secure_auto_follows_the_request_and_proxy_trusts_x_forwarded_proto()
    {
        await using (var app = await SessionApp.StartAsync(o => o.Secure = CookieSecurePolicy.SameAsRequest))
        {
            var reply = await app.PostAsync("/inc");
            Assert.DoesNotContain("Secure", reply.SetCookie, StringComparison.Ordinal);
            Assert.Contains("\"cookie\":{\"originalMaxAge\":null,\"expires\":null,\"secure\":false,", await app.Store.Inner.GetAsync(reply.SessionId).WithTimeout(), StringComparison.Ordinal);
        }
        await using (var app = await SessionApp.StartAsync(o => { o.Secure = CookieSecurePolicy.SameAsRequest; o.Proxy = true; }))
        {
            var reply = await app.SendAsync(HttpMethod.Post, "/inc", configure: r => r.Headers.Add("X-Forwarded-Proto", "https, http"));
            Assert.EndsWith("; HttpOnly; Secure", reply.SetCookie, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Requests_outside_the_cookie_path_get_no_session()
    {
        await using var app = await SessionApp.StartAsync(o => o.Path = "/app");
        Assert.Equal("none", (await app.GetAsync("/peek")).Body);
        var reply = await app.PostAsync("/app/inc");
        Assert.Contains("; Path=/app;", reply.SetCookie, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SessionUnset.Keep, true)]
    [InlineData(SessionUnset.Destroy, false)]
    public async Task Unset_keeps_or_destroys_the_stored_session(SessionUnset unset, bool kept)
    {
        await using var app = await SessionApp.StartAsync(o => o.Unset = unset);
        var a = await app.PostAsync("/inc");
        var reply = await app.PostAsync("/unset", a.CookiePair);
        Assert.Empty(reply.SetCookies);
        Assert.Equal(kept, await app.Store.Inner.GetAsync(a.SessionId).WithTimeout() is not null);
    }

    [Fact]
    public async Task A_change_made_after_the_response_started_is_saved()
    {
        await using var app = await SessionApp.StartAsync(o => o.SaveUninitialized = true);
        var a = await app.GetAsync("/peek");
        var reply = await app.PostAsync("/late", a.CookiePair);
        Assert.Equal("started", reply.Body);
        await TestTimeouts.Eventually(async () => (await app.Store.Inner.GetAsync(a.SessionId))?.Contains("\"late\":true", StringComparison.Ordinal) == true, because: "the late change is saved");
    }

    [Fact]
    public async Task Empty_secret_fails_at_start_up_and_no_secret_warns()
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => SessionApp.StartAsync(o => o.Secrets.Add("")));
        Assert.Contains("Secrets[1] is empty", ex.Message, StringComparison.Ordinal);

        await using var app = await SessionApp.StartAsync(o => o.Secrets.Clear());
        Assert.True(TestLog.Contains("generated a random development secret"));
        var a = await app.PostAsync("/inc");
        Assert.Equal("False|1|" + a.SessionId, (await app.GetAsync("/peek", a.CookiePair)).Body);
    }

    [Fact]
    public async Task GetSession_without_the_middleware_names_the_missing_call()
    {
        var context = new DefaultHttpContext();
        var ex = Assert.Throws<InvalidOperationException>(() => context.GetSession());
        Assert.Contains("UseParleySessions", ex.Message, StringComparison.Ordinal);
        await Task.CompletedTask.WithTimeout();
    }

    [Fact]
    public async Task While_the_store_is_not_ready_requests_proceed_without_a_session()
    {
        await using var app = await SessionApp.StartAsync();
        var a = await app.PostAsync("/inc");
        app.Store.Ready = false;
        app.Store.Ops.Clear();
        var reply = await app.GetAsync("/peek", a.CookiePair);
        Assert.Equal("none", reply.Body);
        Assert.Empty(app.Store.OpNames);
        Assert.True(TestLog.Contains("not ready"));
        app.Store.Ready = true;
        Assert.Equal($"False|1|{a.SessionId}", (await app.GetAsync("/peek", a.CookiePair)).Body);
    }

    [Fact]
    public async Task Several_cookie_values_given_by_the_client_are_read()
    {
        await using var app = await SessionApp.StartAsync();
        var a = await app.PostAsync("/inc");
        var reply = await app.SendAsync(HttpMethod.Get, "/peek", configure: r =>
        {
            r.Headers.TryAddWithoutValidation("Cookie", "x=1");
            r.Headers.TryAddWithoutValidation("Cookie", a.CookiePair);
        });
        Assert.Equal($"False|1|{a.SessionId}", reply.Body);
    }

    [Fact]
    public async Task UseParleySessions_without_AddParleySessions_names_the_missing_call()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => TestWebHost.StartAsync(_ => { }, app => app.UseParleySessions()));
        Assert.Contains("AddParleySessions", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_memory_store_is_the_default_and_AddMemoryStore_configures_it()
    {
        await using var host = await TestWebHost.StartAsync(
            b => b.Services.AddParleySessions(o => o.Secrets.Add("s")).AddMemoryStore(o => o.MaxSessions = 7),
            app => app.UseParleySessions());
        var store = Assert.IsType<MemorySessionStore>(host.Services.GetRequiredService<ParleySessionManager>().Store);
        Assert.Equal(7, host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<MemorySessionStoreOptions>>().Value.MaxSessions);
        Assert.Same(store, host.Services.GetRequiredService<SessionStore>());
    }
}

using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Parley.Testing;

namespace Parley.Sessions.Tests;

public sealed record User(int Id, string Name);

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(User))]
internal sealed partial class TestJsonContext : JsonSerializerContext;

/// <summary>The stored JSON, byte for byte as express-session stores it (docs/wire-formats.md §1.3).</summary>
public class SessionJsonTests
{
    private readonly ManualTimeProvider Time = new(DateTimeOffset.Parse("2026-11-22T02:07:48.532Z", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void New_session_with_max_age_serialises_like_express()
    {
        var manager = TestManagers.Create(Time, configure: o => o.MaxAge = TimeSpan.FromHours(1));
        var session = manager.Create();
        session.Set("user", new User(42, "Zoë"));
        // The VERIFIED value of docs/wire-formats.md §1.3 for cookie:{maxAge:3600000}.
        Assert.Equal("""{"cookie":{"originalMaxAge":3600000,"expires":"2026-11-22T03:07:48.532Z","httpOnly":true,"path":"/"},"user":{"id":42,"name":"Zoë"}}""", session.ToJson());
    }

    [Fact]
    public void New_browser_session_serialises_like_express()
    {
        var manager = TestManagers.Create(Time);
        var session = manager.Create();
        session.Set("user", new User(42, "Zoë"), TestJsonContext.Default.User);
        Assert.Equal("""{"cookie":{"originalMaxAge":null,"expires":null,"httpOnly":true,"path":"/"},"user":{"id":42,"name":"Zoë"}}""", session.ToJson());
        Assert.Equal(new User(42, "Zoë"), session.Get("user", TestJsonContext.Default.User));
    }

    [Fact]
    public void Optional_cookie_keys_appear_only_when_set_in_express_order()
    {
        var manager = TestManagers.Create(Time, configure: o =>
        {
            o.Secure = Microsoft.AspNetCore.Http.CookieSecurePolicy.Always;
            o.Domain = "example.com";
            o.SameSite = Microsoft.AspNetCore.Http.SameSiteMode.Strict;
            o.HttpOnly = false;
        });
        Assert.Equal("""{"cookie":{"originalMaxAge":null,"expires":null,"secure":true,"httpOnly":false,"domain":"example.com","path":"/","sameSite":"strict"}}""", manager.Create().ToJson());
    }

    [Fact]
    public async Task Loaded_sessions_keep_unknown_keys_their_order_and_express_cookie_fields()
    {
        var store = new MemorySessionStore(Microsoft.Extensions.Options.Options.Create(new MemorySessionStoreOptions()), Time);
        var manager = TestManagers.Create(Time, store);
        const string json = """{"cookie":{"originalMaxAge":3600000,"partitioned":true,"priority":"high","expires":"2026-11-22T03:07:48.532Z","secure":false,"httpOnly":true,"domain":"a.b","path":"/x","sameSite":true},"z":1,"passport":{"user":"u1"},"a":[1,"two",null,{"n":1.50}],"flash":{}}""";
        await store.SetAsync("sid1", new SessionRecord(json, null)).AsTask().WithTimeout();
        var session = (await manager.LoadAsync("sid1").WithTimeout())!;
        Assert.False(session.IsNew);
        Assert.Equal(json, session.ToJson());
        Assert.Equal(TimeSpan.FromHours(1), session.Cookie.OriginalMaxAge);
        Assert.Equal("strict", session.Cookie.SameSite);
        Assert.Equal(["z", "passport", "a", "flash"], session.Data.Select(p => p.Key).ToArray());
        session.Set("z", 2);
        Assert.StartsWith("""{"cookie":""", session.ToJson(), StringComparison.Ordinal);
        Assert.Contains(""","z":2,"passport":""", session.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void Hash_ignores_the_cookie_and_sees_data_changes()
    {
        var manager = TestManagers.Create(Time, configure: o => o.MaxAge = TimeSpan.FromMinutes(5));
        var session = manager.Create();
        var before = session.ComputeHash();
        Time.Advance(TimeSpan.FromSeconds(3));
        session.Touch();
        Assert.Equal(before, session.ComputeHash());
        session.Data["k"] = "v";
        Assert.NotEqual(before, session.ComputeHash());
        session.Remove("k");
        Assert.Equal(before, session.ComputeHash());
    }

    [Fact]
    public void Touch_moves_expires_to_now_plus_original_max_age()
    {
        var manager = TestManagers.Create(Time, configure: o => o.MaxAge = TimeSpan.FromMinutes(5));
        var session = manager.Create();
        var first = session.Cookie.Expires!.Value;
        Time.Advance(TimeSpan.FromSeconds(61));
        session.Touch();
        Assert.Equal(first + TimeSpan.FromSeconds(61), session.Cookie.Expires);
        Assert.Equal(TimeSpan.FromMinutes(5), session.Cookie.OriginalMaxAge);
    }

    [Fact]
    public void Cookie_key_is_reserved()
    {
        var session = TestManagers.Create(Time).Create();
        Assert.Throws<ArgumentException>(() => session.Set("cookie", 1));
    }

    [Fact]
    public void Default_ids_are_32_url_safe_characters_from_24_random_bytes()
    {
        var ids = Enumerable.Range(0, 500).Select(_ => ParleySessionOptions.GenerateSessionId()).ToList();
        Assert.All(ids, id =>
        {
            Assert.Equal(32, id.Length);
            Assert.Matches("^[A-Za-z0-9_-]{32}$", id);
            Assert.Equal(24, System.Buffers.Text.Base64Url.DecodeFromChars(id).Length);
        });
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void Session_key_is_sha256_of_the_id_and_does_not_contain_it()
    {
        var session = TestManagers.Create(Time).Create();
        var expected = System.Buffers.Text.Base64Url.EncodeToString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(session.Id)));
        Assert.Equal(expected, session.Key);
        Assert.Equal(expected, ParleySessionManager.ComputeSessionKey(session.Id));
        Assert.DoesNotContain(session.Id, session.Key, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_node_data_model_accepts_direct_edits()
    {
        var session = TestManagers.Create(Time).Create();
        session.Data["list"] = new JsonArray(1, 2);
        Assert.Equal([1, 2], session.Get<int[]>("list")!);
        Assert.Null(session.Get<string>("missing"));
    }

    [Fact]
    public async Task Lone_surrogates_a_node_app_stored_read_as_replacement_characters()
    {
        // JSON.stringify writes a lone surrogate as \ud800; reading it must not throw (docs/security.md).
        var store = new MemorySessionStore(Microsoft.Extensions.Options.Options.Create(new MemorySessionStoreOptions()), Time);
        var manager = TestManagers.Create(Time, store);
        const string json = """{"cookie":{"originalMaxAge":null,"expires":null,"httpOnly":true,"path":"/"},"name":"a\ud800","\udc00":["\ud83d\ude00\ud83d"]}""";
        await store.SetAsync("sid1", new SessionRecord(json, null)).AsTask().WithTimeout();
        var session = (await manager.LoadAsync("sid1").WithTimeout())!;
        Assert.Equal("a\ufffd", session.Get<string>("name"));
        Assert.Equal(["\ud83d\ude00\ufffd"], session.Get<string[]>("\ufffd")!);
    }
}

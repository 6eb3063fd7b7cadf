using Parley.Testing;

namespace Parley.Sessions.Tests;

/// <summary>
/// The behaviour every <see cref="SessionStore"/> must have. A store's test class inherits this and implements
/// <see cref="CreateStoreAsync"/>. Time: the store is given <see cref="Time"/>; tests move it with
/// <see cref="LetTimePassAsync"/>. A store whose expiry is kept by its server (Redis TTLs) overrides both:
/// <see cref="Time"/> to return <see cref="TimeProvider.System"/> and <see cref="LetTimePassAsync"/> to really wait
/// (expiry tests use a few seconds only, and whole seconds, as connect-redis and connect-pg-simple round them).
/// </summary>
public abstract class SessionStoreContractTests<TStore> : IAsyncLifetime
    where TStore : SessionStore
{
    private readonly ManualTimeProvider _manual = new();
    private TStore? _store;

    /// <summary>The clock the store under test runs on.</summary>
    protected virtual TimeProvider Time => _manual;

    /// <summary>The store under test, created once per test.</summary>
    protected TStore Store => _store ?? throw new InvalidOperationException("store not created");

    /// <summary>Creates a fresh, empty store on <paramref name="time"/>.</summary>
    protected abstract Task<TStore> CreateStoreAsync(TimeProvider time);

    /// <summary>
    /// The life of the short-lived sessions in the expiry tests (whole seconds); a store on the real clock makes it
    /// long enough that a stalled machine does not expire one before the test has looked at it.
    /// </summary>
    protected virtual TimeSpan ShortLife => TimeSpan.FromSeconds(2);

    /// <summary>Past <see cref="ShortLife"/>, with a margin for whole-second rounding.</summary>
    private TimeSpan PastShortLife => ShortLife + TimeSpan.FromSeconds(2);

    /// <summary>Moves the store's clock forward (or waits, for server-side expiry).</summary>
    protected virtual Task LetTimePassAsync(TimeSpan span)
    {
        _manual.Advance(span);
        return Task.CompletedTask;
    }

    /// <summary>Disposes the store.</summary>
    protected virtual async Task DisposeStoreAsync(TStore store)
    {
        switch (store)
        {
            case IAsyncDisposable a:
                await a.DisposeAsync();
                break;
            case IDisposable d:
                d.Dispose();
                break;
        }
    }

    public async Task InitializeAsync() => _store = await CreateStoreAsync(Time).WithTimeout();

    public async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await DisposeStoreAsync(_store).WithTimeout();
        }
    }

    protected DateTimeOffset Now => Time.GetUtcNow();

    private static readonly System.Text.Json.JsonSerializerOptions RelaxedJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    protected static string Id() => ParleySessionOptions.GenerateSessionId();

    protected static string Json(string name, DateTimeOffset? expires = null) =>
        $$"""{"cookie":{"originalMaxAge":{{(expires is null ? "null" : "60000")}},"expires":{{(expires is { } e ? "\"" + e.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture) + "\"" : "null")}},"httpOnly":true,"path":"/"},"name":{{System.Text.Json.JsonSerializer.Serialize(name, RelaxedJson)}}}""";

    [Fact]
    public async Task Get_of_a_missing_session_is_null()
    {
        Assert.Null(await Store.GetAsync(Id()).WithTimeout());
    }

    [Fact]
    public async Task Set_then_get_returns_the_json_byte_for_byte()
    {
        var id = Id();
        var json = Json("Zoë \"quoted\" \\ ✓ 😀", Now.AddHours(1));
        await Store.SetAsync(id, new SessionRecord(json, Now.AddHours(1))).AsTask().WithTimeout();
        Assert.Equal(json, await Store.GetAsync(id).WithTimeout());
    }

    [Fact]
    public async Task Set_replaces_an_existing_session()
    {
        var id = Id();
        // One instant: a store on the system clock must not see two different expiries.
        var expires = Now.AddHours(1);
        await Store.SetAsync(id, new SessionRecord(Json("a", expires), expires)).AsTask().WithTimeout();
        await Store.SetAsync(id, new SessionRecord(Json("b", expires), expires)).AsTask().WithTimeout();
        Assert.Equal(Json("b", expires), await Store.GetAsync(id).WithTimeout());
    }

    [Fact]
    public async Task Sessions_are_kept_apart_by_id()
    {
        var a = Id();
        var b = Id();
        await Store.SetAsync(a, new SessionRecord(Json("a"), null)).AsTask().WithTimeout();
        Assert.Null(await Store.GetAsync(b).WithTimeout());
        Assert.Null(await Store.GetAsync(a.ToUpperInvariant() == a ? a.ToLowerInvariant() : a.ToUpperInvariant()).WithTimeout());
        Assert.Equal(Json("a"), await Store.GetAsync(a).WithTimeout());
    }

    [Fact]
    public async Task Destroy_removes_and_is_idempotent()
    {
        var id = Id();
        await Store.SetAsync(id, new SessionRecord(Json("a"), null)).AsTask().WithTimeout();
        await Store.DestroyAsync(id).AsTask().WithTimeout();
        Assert.Null(await Store.GetAsync(id).WithTimeout());
        await Store.DestroyAsync(id).AsTask().WithTimeout();
        await Store.DestroyAsync(Id()).AsTask().WithTimeout();
    }

    [Fact]
    public async Task A_session_without_cookie_expiry_is_stored()
    {
        var id = Id();
        await Store.SetAsync(id, new SessionRecord(Json("a"), null)).AsTask().WithTimeout();
        await LetTimePassAsync(TimeSpan.FromSeconds(2));
        Assert.Equal(Json("a"), await Store.GetAsync(id).WithTimeout());
    }

    [Fact]
    public async Task An_expired_session_is_gone()
    {
        var id = Id();
        var expires = Now.Add(ShortLife);
        await Store.SetAsync(id, new SessionRecord(Json("a", expires), expires)).AsTask().WithTimeout();
        Assert.NotNull(await Store.GetAsync(id).WithTimeout());
        await LetTimePassAsync(PastShortLife);
        Assert.Null(await Store.GetAsync(id).WithTimeout());
    }

    [Fact]
    public async Task Setting_an_expiry_in_the_past_leaves_no_readable_session()
    {
        var id = Id();
        var expires = Now.AddSeconds(-10);
        await Store.SetAsync(id, new SessionRecord(Json("a", expires), expires)).AsTask().WithTimeout();
        Assert.Null(await Store.GetAsync(id).WithTimeout());
    }

    [Fact]
    public async Task Touch_extends_life_without_rewriting_data()
    {
        var id = Id();
        var expires = Now.Add(ShortLife);
        var original = Json("a", expires);
        await Store.SetAsync(id, new SessionRecord(original, expires)).AsTask().WithTimeout();
        var later = Now.AddMinutes(10);
        await Store.TouchAsync(id, new SessionRecord(Json("changed", later), later)).AsTask().WithTimeout();
        await LetTimePassAsync(PastShortLife);
        Assert.Equal(original, await Store.GetAsync(id).WithTimeout());
    }

    [Fact]
    public async Task Touch_of_a_missing_session_creates_nothing()
    {
        var id = Id();
        var later = Now.AddMinutes(10);
        await Store.TouchAsync(id, new SessionRecord(Json("a", later), later)).AsTask().WithTimeout();
        Assert.Null(await Store.GetAsync(id).WithTimeout());
    }

    [Fact]
    public async Task Set_after_expiry_revives_the_id()
    {
        var id = Id();
        var expires = Now.Add(ShortLife);
        await Store.SetAsync(id, new SessionRecord(Json("a", expires), expires)).AsTask().WithTimeout();
        await LetTimePassAsync(PastShortLife);
        var again = Now.AddHours(1);
        await Store.SetAsync(id, new SessionRecord(Json("b", again), again)).AsTask().WithTimeout();
        Assert.Equal(Json("b", again), await Store.GetAsync(id).WithTimeout());
    }

    [Fact]
    public async Task Large_sessions_round_trip()
    {
        var id = Id();
        var json = Json(new string('x', 200_000));
        await Store.SetAsync(id, new SessionRecord(json, null)).AsTask().WithTimeout();
        Assert.Equal(json, await Store.GetAsync(id).WithTimeout());
    }

    [Fact]
    public async Task Concurrent_writers_of_different_sessions_do_not_interfere()
    {
        var ids = Enumerable.Range(0, 50).Select(_ => Id()).ToArray();
        await Task.WhenAll(ids.Select(id => Store.SetAsync(id, new SessionRecord(Json(id), null)).AsTask())).WithTimeout();
        var read = await Task.WhenAll(ids.Select(id => Store.GetAsync(id).AsTask())).WithTimeout();
        Assert.Equal(ids.Select(id => Json(id)), read);
    }

    [Fact]
    public async Task Count_and_clear_when_supported()
    {
        if (!Store.CanEnumerate)
        {
            await Assert.ThrowsAsync<NotSupportedException>(() => Store.CountAsync().AsTask()).WithTimeout();
            return;
        }
        await Store.ClearAsync().AsTask().WithTimeout();
        var expires = Now.Add(ShortLife);
        await Store.SetAsync(Id(), new SessionRecord(Json("a"), null)).AsTask().WithTimeout();
        await Store.SetAsync(Id(), new SessionRecord(Json("b"), null)).AsTask().WithTimeout();
        await Store.SetAsync(Id(), new SessionRecord(Json("c", expires), expires)).AsTask().WithTimeout();
        Assert.Equal(3, await Store.CountAsync().WithTimeout());
        await LetTimePassAsync(PastShortLife);
        Assert.Equal(2, await Store.CountAsync().WithTimeout());
        await Store.ClearAsync().AsTask().WithTimeout();
        Assert.Equal(0, await Store.CountAsync().WithTimeout());
    }
}

using Parley.Testing;

namespace Parley.Sessions.Tests;

/// <summary>The hooks the Socket.IO handshake uses: cookie header / signed value → session, minting, destroy events.</summary>
public class SessionManagerTests
{
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public async Task Signed_value_round_trips_encoded_or_not()
    {
        var manager = TestManagers.Create(_time);
        var session = manager.Create();
        session.Set("name", "ann");
        await session.SaveAsync().WithTimeout();
        var signed = session.GetSignedValue();
        Assert.Equal("s:" + CookieSignature.Sign(session.Id, "keyboard cat"), signed);

        var plain = await manager.LoadFromSignedValueAsync(signed).WithTimeout();
        var encoded = await manager.LoadFromSignedValueAsync(CookieCodec.EncodeUriComponent(signed)).WithTimeout();
        var header = await manager.LoadFromCookieHeaderAsync("io=x; connect.sid=" + CookieCodec.EncodeUriComponent(signed) + "; other=1").WithTimeout();
        foreach (var loaded in new[] { plain, encoded, header })
        {
            Assert.NotNull(loaded);
            Assert.Equal(session.Id, loaded.Id);
            Assert.Equal("ann", loaded.Get<string>("name"));
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("s:")]
    [InlineData("abc")]
    [InlineData("s:abc.BpxCrWRpvZMh/wk/djl34N+m+VQEU7K/5WenLwJCgFX")]
    [InlineData("s%3Aabc.%ZZ")]
    public async Task Bad_signed_values_load_nothing(string? value)
    {
        var manager = TestManagers.Create(_time);
        Assert.Null(await manager.LoadFromSignedValueAsync(value).WithTimeout());
        Assert.Null(await manager.LoadFromCookieHeaderAsync(value is null ? null : "connect.sid=" + value).WithTimeout());
    }

    [Theory]
    [InlineData("abc", 4002)]
    [InlineData("abc%20def", 4002)]
    [InlineData("s:abc.BpxCrWRpvZMh/wk/djl34N+m+VQEU7K/5WenLwJCgFX", 4001)]
    [InlineData("s%3Aabc.BpxCrWRpvZMh%2Fwk%2Fdjl34N%2Bm%2BVQEU7K%2F5WenLwJCgFX", 4001)]
    [InlineData("s%3Aabc.%ZZ", 4003)]
    public void A_value_that_does_not_verify_is_logged_once_with_its_reason(string value, int eventId)
    {
        var log = new RecordingLogger();
        var options = new ParleySessionOptions();
        options.Secrets.Add("keyboard cat");
        var manager = new ParleySessionManager(Microsoft.Extensions.Options.Options.Create(options),
            new MemorySessionStore(Microsoft.Extensions.Options.Options.Create(new MemorySessionStoreOptions()), _time), _time, log);
        Assert.False(manager.TryUnsign(value, out _));
        Assert.Equal([eventId], log.EventIds);
    }

    [Fact]
    public async Task Valid_signature_without_a_stored_session_loads_nothing()
    {
        var manager = TestManagers.Create(_time);
        Assert.Null(await manager.LoadFromSignedValueAsync(manager.Sign("never-saved")).WithTimeout());
    }

    [Fact]
    public async Task Loaded_session_can_be_changed_saved_and_reloaded_outside_http()
    {
        var manager = TestManagers.Create(_time);
        var created = manager.Create();
        created.Set("n", 1);
        await created.SaveAsync().WithTimeout();

        var a = (await manager.LoadFromSignedValueAsync(created.GetSignedValue()).WithTimeout())!;
        var b = (await manager.LoadFromSignedValueAsync(created.GetSignedValue()).WithTimeout())!;
        a.Set("n", 2);
        await a.SaveAsync().WithTimeout();
        Assert.Equal(1, b.Get<int>("n"));
        await b.ReloadAsync().WithTimeout();
        Assert.Equal(2, b.Get<int>("n"));

        await a.DestroyAsync().WithTimeout();
        await Assert.ThrowsAsync<InvalidOperationException>(() => b.ReloadAsync().WithTimeout());
    }

    [Fact]
    public async Task Destroy_and_regenerate_raise_SessionDestroyed_with_the_key_only()
    {
        var manager = TestManagers.Create(_time);
        var events = new List<SessionDestroyedEventArgs>();
        manager.SessionDestroyed += (_, e) => events.Add(e);
        manager.SessionDestroyed += (_, _) => throw new InvalidOperationException("a listener's bug");

        var session = manager.Create();
        await session.SaveAsync().WithTimeout();
        var firstId = session.Id;
        var firstKey = session.Key;
        await session.RegenerateAsync().WithTimeout();
        Assert.NotEqual(firstId, session.Id);
        Assert.True(session.IsNew);
        Assert.Null(await manager.Store.GetAsync(firstId).WithTimeout());
        await session.SaveAsync().WithTimeout();
        await session.DestroyAsync().WithTimeout();

        Assert.Equal(2, events.Count);
        Assert.Equal(firstKey, events[0].SessionKey);
        Assert.Equal(SessionEndReason.Regenerated, events[0].Reason);
        Assert.Equal(ParleySessionManager.ComputeSessionKey(session.Id), events[1].SessionKey);
        Assert.Equal(SessionEndReason.Destroyed, events[1].Reason);
        Assert.True(session.IsDestroyed);
        Assert.Null(await manager.Store.GetAsync(session.Id).WithTimeout());
        Assert.Throws<InvalidOperationException>(() => session.Set("x", 1));
        Assert.True(TestLog.Contains("A SessionDestroyed handler threw"));
    }

    [Fact]
    public async Task Every_secret_verifies_and_the_first_signs()
    {
        var store = new MemorySessionStore(Microsoft.Extensions.Options.Options.Create(new MemorySessionStoreOptions()), _time);
        var old = TestManagers.Create(_time, store, o => { o.Secrets.Clear(); o.Secrets.Add("old"); });
        var rotated = TestManagers.Create(_time, store, o => { o.Secrets.Clear(); o.Secrets.Add("new"); o.Secrets.Add("old"); });
        var session = old.Create();
        await session.SaveAsync().WithTimeout();
        var loaded = await rotated.LoadFromSignedValueAsync(session.GetSignedValue()).WithTimeout();
        Assert.NotNull(loaded);
        Assert.Equal("s:" + CookieSignature.Sign(session.Id, "new"), loaded.GetSignedValue());
        Assert.Null(await old.LoadFromSignedValueAsync(loaded.GetSignedValue()).WithTimeout());
    }
}

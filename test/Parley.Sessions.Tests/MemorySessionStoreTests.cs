using Microsoft.Extensions.Options;
using Parley.Testing;

namespace Parley.Sessions.Tests;

public class MemorySessionStoreTests : SessionStoreContractTests<MemorySessionStore>
{
    protected override Task<MemorySessionStore> CreateStoreAsync(TimeProvider time) =>
        Task.FromResult(new MemorySessionStore(Options.Create(new MemorySessionStoreOptions()), time));

    [Fact]
    public async Task Sweep_removes_expired_sessions_only()
    {
        var expires = Now.AddSeconds(5);
        await Store.SetAsync("short", new SessionRecord(Json("a", expires), expires)).AsTask().WithTimeout();
        await Store.SetAsync("long", new SessionRecord(Json("b"), null)).AsTask().WithTimeout();
        Assert.Equal(0, Store.Sweep());
        await LetTimePassAsync(TimeSpan.FromSeconds(6));
        Assert.Equal(1, Store.Sweep());
        Assert.NotNull(await Store.GetAsync("long").WithTimeout());
    }

    [Fact]
    public async Task Sweep_timer_runs_on_its_own()
    {
        using var store = new MemorySessionStore(Options.Create(new MemorySessionStoreOptions { SweepInterval = TimeSpan.FromMilliseconds(50) }), TimeProvider.System);
        var expires = DateTimeOffset.UtcNow.AddMilliseconds(100);
        await store.SetAsync("a", new SessionRecord("{}", expires)).AsTask().WithTimeout();
        await TestTimeouts.Eventually(async () => await store.CountAsync() == 0 && store.Sweep() == 0, because: "the sweep timer removed the session");
        Assert.Null(await store.GetAsync("a").WithTimeout());
    }

    [Fact]
    public async Task The_store_is_bounded_and_evicts_the_sessions_that_expire_soonest()
    {
        using var store = new MemorySessionStore(Options.Create(new MemorySessionStoreOptions { MaxSessions = 100 }), Time, TestManagers.Logger<MemorySessionStore>());
        for (var i = 0; i < 100; i++)
        {
            var expires = Now.AddMinutes(10 + i);
            await store.SetAsync("s" + i, new SessionRecord("{}", expires)).AsTask().WithTimeout();
        }
        await store.SetAsync("new", new SessionRecord("{}", Now.AddHours(1))).AsTask().WithTimeout();
        var count = await store.CountAsync().WithTimeout();
        Assert.True(count <= 100, $"count {count}");
        Assert.Null(await store.GetAsync("s0").WithTimeout());
        Assert.NotNull(await store.GetAsync("s99").WithTimeout());
        Assert.NotNull(await store.GetAsync("new").WithTimeout());
        Assert.True(TestLog.Contains("Memory session store is full"));
    }
}

using Microsoft.Extensions.Options;
using Parley.Sessions.Redis;
using Parley.Testing;

namespace Parley.Sessions.Tests;

/// <summary>
/// The store contract on a Redis reached through <see cref="Url"/>. Redis keeps expiry itself: tests run on the real
/// clock and wait.
/// </summary>
public abstract class RedisStoreContractTests : SessionStoreContractTests<RedisSessionStore>
{
    protected override TimeProvider Time => TimeProvider.System;

    protected override Task LetTimePassAsync(TimeSpan span) => Task.Delay(span);

    protected override TimeSpan ShortLife => TimeSpan.FromSeconds(5);

    /// <summary>Where the store connects: a URL or a StackExchange.Redis configuration string.</summary>
    protected abstract string Url { get; }

    private readonly string _prefix = "sess-" + Guid.NewGuid().ToString("N")[..8] + ":";

    protected override Task<RedisSessionStore> CreateStoreAsync(TimeProvider time) =>
        Task.FromResult(new RedisSessionStore(Options.Create(new RedisSessionStoreOptions { Url = Url, Prefix = _prefix }), time));
}

/// <summary>The Redis store against a real redis-server: the contract, and connect-redis's exact commands.</summary>
public sealed class RedisSessionStoreTests(RedisServer redis) : RedisStoreContractTests, IClassFixture<RedisServer>
{
    protected override string Url => redis.Url;

    private RedisSessionStore NewStore(TimeProvider time, Action<RedisSessionStoreOptions> configure)
    {
        var options = new RedisSessionStoreOptions { Url = redis.Url };
        configure(options);
        return new RedisSessionStore(Options.Create(options), time);
    }

    [Fact]
    public async Task Writes_what_connect_redis_writes()
    {
        await using var store = NewStore(TimeProvider.System, _ => { });
        var id = Id();
        var expires = DateTimeOffset.UtcNow.AddSeconds(3600);
        var json = Json("Ann", expires);
        await store.SetAsync(id, new SessionRecord(json, expires)).AsTask().WithTimeout();

        // sess:<id> holds the JSON as is, with EX = ceil(seconds until cookie.expires).
        Assert.Equal(json, (await redis.CliAsync("GET", "sess:" + id).WithTimeout()).Trim());
        var ttl = long.Parse((await redis.CliAsync("TTL", "sess:" + id).WithTimeout()).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(ttl, 3595, 3600);

        // Without an expiry the TTL is 86400.
        var other = Id();
        await store.SetAsync(other, new SessionRecord(Json("Bob"), null)).AsTask().WithTimeout();
        ttl = long.Parse((await redis.CliAsync("TTL", "sess:" + other).WithTimeout()).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(ttl, 86395, 86400);

        // touch = EXPIRE only: the stored JSON does not change.
        var later = DateTimeOffset.UtcNow.AddSeconds(7200);
        await store.TouchAsync(id, new SessionRecord(Json("changed", later), later)).AsTask().WithTimeout();
        Assert.Equal(json, (await redis.CliAsync("GET", "sess:" + id).WithTimeout()).Trim());
        ttl = long.Parse((await redis.CliAsync("TTL", "sess:" + id).WithTimeout()).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(ttl, 7195, 7200);

        await store.DestroyAsync(id).AsTask().WithTimeout();
        Assert.Equal("0", (await redis.CliAsync("EXISTS", "sess:" + id).WithTimeout()).Trim());
    }

    [Fact]
    public async Task Is_not_ready_while_redis_is_down_and_recovers()
    {
        await using var server = await RedisServer.StartAsync();
        var options = new RedisSessionStoreOptions { Url = server.Url };
        await using var store = new RedisSessionStore(Options.Create(options));
        var id = Id();
        await store.SetAsync(id, new SessionRecord(Json("Ann"), null)).AsTask().WithTimeout();
        Assert.True(store.IsReady);

        await server.KillAsync().WithTimeout();
        await TestTimeouts.Eventually(() => !store.IsReady);
        await Assert.ThrowsAnyAsync<StackExchange.Redis.RedisConnectionException>(async () => await store.GetAsync(id).AsTask().WithTimeout());

        await server.RestartAsync().WithTimeout();
        await TestTimeouts.Eventually(() => store.IsReady);
        await store.SetAsync(id, new SessionRecord(Json("Ann again"), null)).AsTask().WithTimeout();
        Assert.Contains("Ann again", await store.GetAsync(id).AsTask().WithTimeout());
    }
}

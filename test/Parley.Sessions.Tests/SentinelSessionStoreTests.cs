using Microsoft.Extensions.Options;
using Parley.Internal;
using Parley.Sessions.Redis;
using Parley.Testing;
using StackExchange.Redis;

namespace Parley.Sessions.Tests;

/// <summary>The Redis store given Sentinel's addresses and service name: the whole store contract.</summary>
public sealed class SentinelSessionStoreTests(RedisSentinel sentinel) : RedisStoreContractTests, IClassFixture<RedisSentinel>
{
    protected override string Url => sentinel.Url;
}

/// <summary>
/// The primary killed under a store: Sentinel promotes the replica (down after 1 s), the store follows its
/// <c>+switch-master</c> without a restart, and the sessions written before (replicated) are still there.
/// </summary>
public abstract class SessionStoreFailoverTests<TSentinel>(TSentinel sentinel) : IClassFixture<TSentinel>
    where TSentinel : RedisSentinel
{
    [Fact]
    public async Task The_store_follows_a_primary_failover_and_keeps_replicated_sessions()
    {
        var prefix = "sess-" + Guid.NewGuid().ToString("N")[..8] + ":";
        var options = new RedisSessionStoreOptions { Url = sentinel.Url, Prefix = prefix };
        if (sentinel.CaFile is { } ca)
        {
            // A private CA is set on the options the URL parses to (as the chat's --redis-ca does).
            options.Configuration = RedisConfiguration.Parse(sentinel.Url);
            options.Configuration.TrustIssuer(ca);
        }
        await using var store = new RedisSessionStore(Options.Create(options));
        var ids = Enumerable.Range(0, 10).Select(i => "before" + i + Guid.NewGuid().ToString("N")).ToList();
        foreach (var id in ids)
        {
            await store.SetAsync(id, new SessionRecord($$"""{"cookie":{},"user":"{{id}}"}""", DateTimeOffset.UtcNow.AddHours(1))).AsTask().WithTimeout();
        }
        var primary = await sentinel.PrimaryAsync();
        var replica = sentinel.Servers.Single(s => s != primary);
        await TestTimeouts.Eventually(async () => (await replica.CliAsync("DBSIZE")).Trim() == "10", because: "the replica has every session");

        await primary.KillAsync();

        // Writes fail (no primary, or READONLY from the replica) until Sentinel has promoted it and the store follows.
        var after = "after" + Guid.NewGuid().ToString("N");
        await TestTimeouts.Eventually(async () =>
        {
            try
            {
                await store.SetAsync(after, new SessionRecord("""{"cookie":{},"user":"after"}""", null)).AsTask().WithTimeout();
                return await store.GetAsync(after).AsTask().WithTimeout() is not null;
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), "a session write succeeds after the failover");

        // The write went to the promoted replica (a replica refuses writes; the sentinel asked may learn of the
        // promotion a moment after the one that led it).
        Assert.Equal("1", (await replica.CliAsync("EXISTS", prefix + after)).Trim());
        Assert.StartsWith("master", await replica.CliAsync("ROLE"), StringComparison.Ordinal);
        await TestTimeouts.Eventually(async () => await sentinel.PrimaryAsync() == replica, because: "every sentinel names the replica");
        foreach (var id in ids)
        {
            Assert.Contains(id, await store.GetAsync(id).AsTask().WithTimeout());
        }
        Assert.Equal(11, await store.CountAsync().AsTask().WithTimeout());
    }
}

public sealed class SentinelSessionStoreFailoverTests(RedisSentinel sentinel) : SessionStoreFailoverTests<RedisSentinel>(sentinel);

/// <summary>The same with authentication on: the store reaches the sentinels and the primary as an ACL user.</summary>
public sealed class AuthenticatedSentinelSessionStoreFailoverTests(AuthenticatedRedisSentinel sentinel) : SessionStoreFailoverTests<AuthenticatedRedisSentinel>(sentinel);

/// <summary>
/// The same on TLS only (a private CA made by the fixture): the store is given <c>ssl=true</c> and trusts the CA, and
/// follows the failover through TLS connections to the sentinels and the promoted replica.
/// </summary>
public sealed class TlsSentinelSessionStoreFailoverTests(TlsRedisSentinel sentinel) : SessionStoreFailoverTests<TlsRedisSentinel>(sentinel);

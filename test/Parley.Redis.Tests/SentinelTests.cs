using Parley.Testing;
using Xunit.Abstractions;

namespace Parley.Redis.Tests;

// Parley given Sentinel's addresses and service name (a primary, a replica, three sentinels): the two-node adapter
// suite, classic and sharded, and a primary killed under traffic.

public sealed class ClassicParleyOnSentinelTests(RedisSentinel sentinel) : ParleyClusterTests(sentinel, sharded: false), IClassFixture<RedisSentinel>;

public sealed class ShardedParleyOnSentinelTests(RedisSentinel sentinel) : ParleyClusterTests(sentinel, sharded: true), IClassFixture<RedisSentinel>;

/// <summary>Sentinel promotes the replica (down after 1 s); the adapters follow its <c>+switch-master</c>.</summary>
public abstract class SentinelFailoverTests(RedisSentinel sentinel, bool sharded, ITestOutputHelper output) : FailoverTests(sentinel, sharded, output)
{
    protected override Task<RedisServer> VictimAsync() => sentinel.PrimaryAsync();

    protected override Task WaitUntilPromotedAsync(RedisServer victim) =>
        TestTimeouts.Eventually(async () => await sentinel.PrimaryAsync() != victim, TimeSpan.FromSeconds(60), "Sentinel promotes the replica");

    protected override Task WaitUntilHealthyAsync() => sentinel.WaitUntilHealthyAsync();

    protected override void ConfigureAdapter(RedisAdapterOptions options)
    {
        if (sentinel.CaFile is { } ca)
        {
            options.Configuration!.TrustIssuer(ca);
        }
    }
}

public sealed class ClassicSentinelFailoverTests(RedisSentinel sentinel, ITestOutputHelper output) : SentinelFailoverTests(sentinel, sharded: false, output), IClassFixture<RedisSentinel>;

public sealed class ShardedSentinelFailoverTests(RedisSentinel sentinel, ITestOutputHelper output) : SentinelFailoverTests(sentinel, sharded: true, output), IClassFixture<RedisSentinel>;

/// <summary>
/// The same failover with authentication on everywhere: Parley reaches the sentinels and the primary as an ACL user
/// (<c>user=…,password=…</c> in the configuration string), the replica and the sentinels use the default password.
/// </summary>
public sealed class ClassicAuthenticatedSentinelFailoverTests(AuthenticatedRedisSentinel sentinel, ITestOutputHelper output) : SentinelFailoverTests(sentinel, sharded: false, output), IClassFixture<AuthenticatedRedisSentinel>;

/// <summary>
/// The same failover with every data server and sentinel on TLS only (a private CA made by the fixture): Parley is
/// given <c>ssl=true</c> in the configuration string and trusts the CA through <c>TrustIssuer</c>, and reaches both
/// the sentinels and the primary they name through TLS.
/// </summary>
public sealed class ClassicTlsSentinelFailoverTests(TlsRedisSentinel sentinel, ITestOutputHelper output) : SentinelFailoverTests(sentinel, sharded: false, output), IClassFixture<TlsRedisSentinel>;

/// <summary>The authenticated deployment really demands credentials, and Parley's connections are the ACL user's.</summary>
public sealed class AuthenticatedSentinelTests(AuthenticatedRedisSentinel sentinel) : IClassFixture<AuthenticatedRedisSentinel>
{
    [Fact]
    public async Task Parley_connects_to_the_sentinels_and_the_primary_as_the_acl_user()
    {
        await using var node = await ParleyNode.StartAsync(sentinel.Url, sharded: false);
        var primary = await sentinel.PrimaryAsync();
        foreach (var server in new[] { primary, sentinel.Sentinels[0] })
        {
            Assert.Contains("user=" + RedisSentinel.AclUser, await server.CliAsync("CLIENT", "LIST"), StringComparison.Ordinal);
            var password = server.CliPassword;
            server.CliPassword = null;
            try
            {
                Assert.Contains("NOAUTH", await server.CliAsync("PING"), StringComparison.Ordinal);
            }
            finally
            {
                server.CliPassword = password;
            }
        }
    }
}

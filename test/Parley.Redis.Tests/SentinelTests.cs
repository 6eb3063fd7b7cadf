using System.Net;
using System.Net.Sockets;
using Parley.Internal;
using Parley.Testing;
using StackExchange.Redis;
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

/// <summary>
/// The TLS deployment has no plain-text port, and the configuration string with <c>ssl=true</c> reaches the primary
/// through the sentinels only when the private CA is trusted: the failover test above really ran on TLS.
/// </summary>
public sealed class TlsSentinelTests(TlsRedisSentinel sentinel) : IClassFixture<TlsRedisSentinel>
{
    [Fact]
    public async Task No_server_or_sentinel_answers_in_plain_text()
    {
        foreach (var server in sentinel.Sentinels.Concat(sentinel.Servers))
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, server.Port).WithTimeout();
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray()).AsTask().WithTimeout();
            // Redis takes the bytes for a TLS handshake, fails it and closes the connection without a reply.
            var buffer = new byte[64];
            int read;
            try
            {
                read = await stream.ReadAsync(buffer).AsTask().WithTimeout();
            }
            catch (IOException)
            {
                read = 0;
            }
            Assert.Equal(0, read);
        }
    }

    [Fact]
    public async Task The_primary_is_reached_through_the_sentinels_only_with_the_private_ca_trusted()
    {
        var untrusted = RedisConfiguration.Parse(sentinel.Url);
        untrusted.AbortOnConnectFail = true;
        await Assert.ThrowsAsync<RedisConnectionException>(() => ConnectionMultiplexer.ConnectAsync(untrusted).WithTimeout());

        var trusted = RedisConfiguration.Parse(sentinel.Url);
        trusted.AbortOnConnectFail = true;
        trusted.TrustIssuer(sentinel.CaFile!);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(trusted).WithTimeout();
        var key = "tls-" + Guid.NewGuid().ToString("N");
        Assert.True(await redis.GetDatabase().StringSetAsync(key, "through TLS").WithTimeout());
        Assert.Equal("through TLS", await (await sentinel.PrimaryAsync()).CliAsync("GET", key));
    }
}

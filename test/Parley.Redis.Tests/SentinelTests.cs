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
}

public sealed class ClassicSentinelFailoverTests(RedisSentinel sentinel, ITestOutputHelper output) : SentinelFailoverTests(sentinel, sharded: false, output), IClassFixture<RedisSentinel>;

public sealed class ShardedSentinelFailoverTests(RedisSentinel sentinel, ITestOutputHelper output) : SentinelFailoverTests(sentinel, sharded: true, output), IClassFixture<RedisSentinel>;

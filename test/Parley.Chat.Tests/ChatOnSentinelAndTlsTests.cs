using Parley.Testing;

namespace Parley.Chat.Tests;

/// <summary>
/// The contract on two chat nodes given Sentinel's addresses and service name as <c>--redis</c> (a primary, a
/// replica, three sentinels): sessions, the adapter and history through the primary Sentinel names. Emptied (FLUSHALL
/// on the primary) before each test.
/// </summary>
public sealed class SentinelChatContractTests(RedisSentinel sentinel) : ChatContractTests, IClassFixture<RedisSentinel>
{
    protected override async Task<ChatHost[]> StartNodesAsync()
    {
        await (await sentinel.PrimaryAsync()).CliAsync("FLUSHALL");
        return await ChatHost.StartClusterAsync(sentinel.Url, 2);
    }
}

/// <summary>
/// The contract on two chat nodes reaching Redis only through TLS: <c>--redis rediss://…</c> with
/// <c>--redis-ca</c>, the private CA that signed the server's certificate (the chat would refuse it otherwise).
/// </summary>
public sealed class TlsRedisChatContractTests(RedisTls redis) : ChatContractTests, IClassFixture<RedisTls>
{
    protected override async Task<ChatHost[]> StartNodesAsync()
    {
        await redis.Server.CliAsync("FLUSHALL");
        return await ChatHost.StartClusterAsync(redis.Url, 2, "--redis-ca", redis.CaFile);
    }
}

/// <summary>
/// The contract on two chat nodes given a Sentinel deployment on TLS only: <c>--redis</c> with the sentinels,
/// <c>serviceName=…</c> and <c>ssl=true</c>, and <c>--redis-ca</c>, the private CA that signed the sentinels' and the
/// data servers' certificates.
/// </summary>
public sealed class TlsSentinelChatContractTests(TlsRedisSentinel sentinel) : ChatContractTests, IClassFixture<TlsRedisSentinel>
{
    protected override async Task<ChatHost[]> StartNodesAsync()
    {
        await (await sentinel.PrimaryAsync()).CliAsync("FLUSHALL");
        return await ChatHost.StartClusterAsync(sentinel.Url, 2, "--redis-ca", sentinel.CaFile!);
    }
}

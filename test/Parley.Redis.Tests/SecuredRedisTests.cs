using System.Globalization;
using Parley.Testing;

namespace Parley.Redis.Tests;

/// <summary>
/// The adapter on a Redis that demands credentials (an ACL user and the default user's password) and on one that
/// speaks only TLS (<c>rediss://</c>, a CA made here with openssl): two nodes carry a broadcast across, classic and
/// sharded.
/// </summary>
public sealed class SecuredRedisTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_acl_user_and_a_password_are_taken_from_the_url(bool sharded)
    {
        await using var redis = await RedisServer.StartAsync("--requirepass", "root-secret");
        await redis.CliAsync("-a", "root-secret", "--no-auth-warning", "ACL", "SETUSER", "app", "on", ">app pass", "~*", "&*", "+@all");
        // The password has a space, percent-encoded as Node users write it.
        var user = $"redis://app:app%20pass@127.0.0.1:{redis.Port}";
        var root = $"redis://:root-secret@127.0.0.1:{redis.Port}";
        await using var a = await ParleyNode.StartAsync(user, sharded);
        await using var b = await ParleyNode.StartAsync(root, sharded);
        await CrossAsync(a, b, new Authenticated(redis));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Tls_with_a_private_ca(bool sharded)
    {
        await using var redis = await RedisTls.StartAsync();
        await using var a = await ParleyNode.StartAsync(redis.Url, sharded, o => o.Configuration!.TrustIssuer(redis.CaFile));
        await using var b = await ParleyNode.StartAsync(redis.Url, sharded, o => o.Configuration!.TrustIssuer(redis.CaFile));
        // The nodes reach Redis only through its TLS port, trusting the private CA.
        await CrossAsync(a, b, redis);
    }

    private static async Task CrossAsync(ParleyNode a, ParleyNode b, IRedisDeployment redis)
    {
        await Wait.ForServerCountAsync(() => a.Io.Sockets.Adapter.ServerCountAsync(), 2);
        // The count shows b's request subscription; its broadcast subscription may be confirmed a moment later.
        await TestTimeouts.Eventually(() => a.Adapter.Connections.IsReady && b.Adapter.Connections.IsReady, because: "both adapters subscribed");
        await using var clients = NodeDriver.Start();
        var b1 = await clients.ConnectAsync(b.Url, ["r"]);
        if (a.Adapter is ShardedRedisAdapter)
        {
            await Wait.ForRoomChannelAsync(redis, "r", 1);
        }
        await a.Io.To("r").EmitAsync("hello", 1).WithTimeout();
        Assert.Equal(1, (await clients.ExpectNextAsync(b1.Handle, "hello"))[0]!.GetValue<int>());
    }

    /// <summary>The shard-subscriber count asked with the root password.</summary>
    private sealed class Authenticated(RedisServer redis) : IRedisDeployment
    {
        public string Url => redis.Url;

        public async Task<long> SubscribersAsync(string channel) =>
            long.Parse((await redis.CliAsync("-a", "root-secret", "--no-auth-warning", "PUBSUB", "NUMSUB", channel)).Split('\n')[^1].Trim(), CultureInfo.InvariantCulture);

        public async Task<long> ShardSubscribersAsync(string channel) =>
            long.Parse((await redis.CliAsync("-a", "root-secret", "--no-auth-warning", "PUBSUB", "SHARDNUMSUB", channel)).Split('\n')[^1].Trim(), CultureInfo.InvariantCulture);
    }
}

using Microsoft.Extensions.Options;
using Parley.Sessions.Redis;
using Parley.Testing;

namespace Parley.Sessions.Tests;

/// <summary>
/// The Redis store on a real Redis Cluster (3 primaries, 3 replicas): sessions hash to slots on every primary, a
/// store given one node finds the others (no MOVED reaches the caller), and Count/Clear see every shard.
/// </summary>
public sealed class RedisClusterSessionStoreTests(RedisCluster cluster) : IClassFixture<RedisCluster>
{
    [Fact]
    public async Task Sessions_spread_over_every_primary_are_read_through_any_node()
    {
        var prefix = "sess-" + Guid.NewGuid().ToString("N")[..8] + ":";
        await using var writer = new RedisSessionStore(Options.Create(new RedisSessionStoreOptions { Url = cluster.Url, Prefix = prefix }));
        // Another node's view: seeded with the last node only (a replica at creation), as a second app might be.
        await using var reader = new RedisSessionStore(Options.Create(new RedisSessionStoreOptions { Url = cluster.Nodes[^1].Url, Prefix = prefix }));
        var ids = Enumerable.Range(0, 30).Select(i => "id" + i + Guid.NewGuid().ToString("N")).ToList();
        foreach (var id in ids)
        {
            await writer.SetAsync(id, new SessionRecord($$"""{"cookie":{},"user":"{{id}}"}""", DateTimeOffset.UtcNow.AddHours(1))).AsTask().WithTimeout();
        }

        var primaries = new HashSet<int>();
        foreach (var id in ids)
        {
            primaries.Add((await cluster.PrimaryOfSlotAsync(await cluster.SlotOfAsync(prefix + id))).Port);
            Assert.Contains(id, await reader.GetAsync(id).AsTask().WithTimeout());
        }
        Assert.Equal(3, primaries.Count);

        Assert.Equal(30, await reader.CountAsync().AsTask().WithTimeout());
        await reader.DestroyAsync(ids[0]).AsTask().WithTimeout();
        Assert.Null(await writer.GetAsync(ids[0]).AsTask().WithTimeout());
        await writer.ClearAsync().AsTask().WithTimeout();
        Assert.Equal(0, await reader.CountAsync().AsTask().WithTimeout());
    }
}

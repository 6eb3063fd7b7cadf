namespace Parley.Testing;

/// <summary>What tests need from a Redis, whether one server (<see cref="RedisServer"/>) or a Redis Cluster (<see cref="RedisCluster"/>).</summary>
public interface IRedisDeployment
{
    /// <summary>The URL Parley is given: one server, or the cluster's seed list.</summary>
    string Url { get; }

    /// <summary>Subscribers of a classic channel (<c>PUBSUB NUMSUB</c>, summed over every server).</summary>
    Task<long> SubscribersAsync(string channel);

    /// <summary>Subscribers of a shard channel (<c>PUBSUB SHARDNUMSUB</c>, summed over the primaries of a cluster).</summary>
    Task<long> ShardSubscribersAsync(string channel);
}

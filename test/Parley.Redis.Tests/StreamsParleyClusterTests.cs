using Parley.Testing;

namespace Parley.Redis.Tests;

/// <summary>The two-node suite of the pub/sub adapters, run on the Redis Streams adapter: on one Redis…</summary>
public sealed class StreamsParleyClusterTests(RedisServer redis) : ParleyClusterTests(redis, sharded: false, streams: true), IClassFixture<RedisServer>;

/// <summary>…and on a Redis Cluster (the stream lives on one shard, pub/sub reaches every node).</summary>
[Collection(RedisClusterCollection.Name)]
public sealed class StreamsParleyOnRedisClusterTests(RedisCluster cluster) : ParleyClusterTests(cluster, sharded: false, streams: true);

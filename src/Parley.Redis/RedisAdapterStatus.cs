namespace Parley.Redis;

/// <summary>
/// Whether this node's Redis adapter is connected to the cluster, for health checks and for start-up code that
/// should wait for it (resolve it from DI after <c>AddRedis</c>). Parley serves its own sockets whatever this says;
/// while it is false, broadcasts reach local sockets only and cluster requests see this node alone
/// (src/Parley.Redis/README.md).
/// </summary>
public sealed class RedisAdapterStatus
{
    private readonly RedisConnections _connections;

    internal RedisAdapterStatus(RedisConnections connections) => _connections = connections;

    /// <summary>The Redis address, without secrets.</summary>
    public string Endpoint => _connections.Endpoint;

    /// <summary>
    /// True when the command and the subscriber connection are both up and every namespace created so far has its
    /// subscriptions confirmed by Redis: a broadcast sent now reaches the other nodes.
    /// </summary>
    public bool IsReady => _connections.IsReady;

    /// <summary>Completes once <see cref="IsReady"/> holds, now or after an outage.</summary>
    public Task WaitUntilReadyAsync(CancellationToken cancellationToken = default) => _connections.WaitUntilReadyAsync(cancellationToken);
}

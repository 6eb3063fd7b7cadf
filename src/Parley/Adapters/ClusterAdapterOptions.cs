namespace Parley.Adapters;

/// <summary>
/// Timeouts of a <see cref="ClusterAdapter"/>, with socket.io-adapter's defaults (cluster-adapter.ts
/// <c>DEFAULT_TIMEOUT</c>, <c>heartbeatInterval</c>, <c>heartbeatTimeout</c>).
/// </summary>
public sealed class ClusterAdapterOptions
{
    /// <summary>How long fetchSockets and serverSideEmit with acks wait for the other nodes by default. Default 5 s.</summary>
    public TimeSpan RequestsTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary><see cref="ClusterAdapterWithHeartbeat"/>: how often a node says it is alive when it sends nothing else. Default 5 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary><see cref="ClusterAdapterWithHeartbeat"/>: after how long without a message a node counts as gone. Default 10 s.</summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

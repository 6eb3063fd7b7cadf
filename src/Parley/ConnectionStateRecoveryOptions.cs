namespace Parley;

/// <summary>
/// Connection state recovery (socket.io 4.6+ <c>connectionStateRecovery</c>): a client that drops and comes back
/// within <see cref="MaxDisconnectionDuration"/> gets its socket id, rooms and <c>Data</c> back, and the packets it
/// missed meanwhile, once and in order (docs/recovery.md).
/// </summary>
public sealed class ConnectionStateRecoveryOptions
{
    /// <summary>How long a dropped session and the packets it may miss are kept (<c>maxDisconnectionDuration</c>, 2 min).</summary>
    public TimeSpan MaxDisconnectionDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Whether a recovered socket skips the namespace's middlewares (<c>skipMiddlewares</c>, true).</summary>
    public bool SkipMiddlewares { get; set; } = true;

    /// <summary>
    /// The most packets the in-memory adapter keeps per namespace for clients that are away (10,000); past it the
    /// oldest are evicted, and a client whose offset was evicted reconnects without recovery.
    /// </summary>
    public int MaxPackets { get; set; } = 10_000;

    /// <summary>The most bytes of packets (JSON and attachments) kept per namespace (16 MiB); past it the oldest are evicted.</summary>
    public long MaxBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// The most dropped sessions kept per namespace (100,000); past it the oldest is forgotten. Sessions also
    /// expire after <see cref="MaxDisconnectionDuration"/>.
    /// </summary>
    public int MaxSessions { get; set; } = 100_000;
}

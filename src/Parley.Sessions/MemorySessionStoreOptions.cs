namespace Parley.Sessions;

/// <summary>Options of <see cref="MemorySessionStore"/>.</summary>
public sealed class MemorySessionStoreOptions
{
    /// <summary>How often expired sessions are swept out; one minute by default.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The most sessions kept; 100,000 by default. Past it, expired sessions are swept and then the tenth of the
    /// sessions that expire soonest is evicted, so that a flood of new sessions cannot exhaust memory.
    /// </summary>
    public int MaxSessions { get; set; } = 100_000;

    /// <summary>
    /// How long a session without a cookie expiry (a browser-session cookie) is kept; one day by default, the TTL
    /// connect-redis and connect-pg-simple give such sessions. (express-session's own MemoryStore keeps them forever.)
    /// </summary>
    public TimeSpan DefaultTtl { get; set; } = TimeSpan.FromDays(1);
}

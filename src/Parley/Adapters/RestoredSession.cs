namespace Parley.Adapters;

/// <summary>
/// A session an adapter found for a reconnecting client (socket.io-adapter <c>Session</c>): the persisted state
/// and the packets the client missed, to be sent once, in order, before anything new.
/// </summary>
public sealed class RestoredSession
{
    /// <summary>The state kept at the disconnection.</summary>
    public required PersistedSession Session { get; init; }

    /// <summary>
    /// The namespace's broadcasts after the client's offset that reach <see cref="PersistedSession.Rooms"/>, oldest
    /// first, each with its <see cref="BroadcastPacket.Offset"/> set.
    /// </summary>
    public required IReadOnlyList<BroadcastPacket> MissedPackets { get; init; }
}

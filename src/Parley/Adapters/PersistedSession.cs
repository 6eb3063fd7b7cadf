namespace Parley.Adapters;

/// <summary>
/// What connection state recovery keeps of a socket that dropped (socket.io-adapter <c>SessionToPersist</c>): enough
/// to give a client that comes back with <see cref="Pid"/> the same socket id, rooms and data.
/// </summary>
public sealed class PersistedSession
{
    /// <summary>The socket id the client will get back.</summary>
    public required string Sid { get; init; }

    /// <summary>The private session id: sent to this client only, in its CONNECT ack, and the key of the session.</summary>
    public required string Pid { get; init; }

    /// <summary>The rooms the socket was in, its own room included.</summary>
    public required IReadOnlyList<string> Rooms { get; init; }

    /// <summary>
    /// A copy of the socket's <c>Data</c> when it dropped. The in-memory adapter keeps the values as they are; a
    /// cluster adapter serializes them (with <c>Namespace.Server.WireOptions</c>) and restores them as
    /// <see cref="System.Text.Json.JsonElement"/>s.
    /// </summary>
    public required IReadOnlyDictionary<string, object?> Data { get; init; }

    /// <summary>When the socket dropped.</summary>
    public required DateTimeOffset DisconnectedAt { get; init; }
}

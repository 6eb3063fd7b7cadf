namespace Parley.EngineIO;

/// <summary>
/// The life of a connection: engine.io's <c>readyState</c> (socket.ts: opening, open, closing, closed) with the
/// upgrade (socket.ts <c>upgrading</c>) shown as a state of its own.
/// </summary>
/// <remarks>
/// opening → open when the handshake is answered and the heartbeat starts; open → upgrading when a probing
/// WebSocket sends <c>2probe</c>, and back to open when it commits (<c>5</c>, now over WebSocket) or fails (still
/// polling); open or upgrading → closing when the server closes with packets still queued; any → closed. Packets are
/// queued in opening, open and upgrading; received packets are handled in every state but closed.
/// </remarks>
public enum EngineConnectionState
{
    /// <summary>Open: packets flow.</summary>
    Open,

    /// <summary>Closed for good.</summary>
    Closed,

    /// <summary>Created by the handshake; the handshake's answer is not out yet.</summary>
    Opening,

    /// <summary>Open over polling while a WebSocket probe is under way (after <c>2probe</c>, before <c>5</c>).</summary>
    Upgrading,

    /// <summary>Closing from the server side: what is queued is written, then the connection closes.</summary>
    Closing,
}

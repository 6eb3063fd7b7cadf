using System.Net.WebSockets;
using Parley.Protocol.EngineIO;

namespace Parley.EngineIO;

/// <summary>
/// What a connection holds while it uses HTTP long-polling (engine.io lib/transports/polling.ts), and the upgrade
/// that can take it to WebSocket (socket.ts _maybeUpgrade): only polling sessions upgrade, so only they carry it.
/// Guarded by the connection's lock; the requests themselves are served in <c>EngineConnection.Polling.cs</c>.
/// </summary>
internal sealed class PollingTransport
{
    /// <summary>A GET is waiting for packets (a second one meanwhile is an overlap).</summary>
    public bool PollActive;

    /// <summary>A POST is being read (a second one meanwhile is an overlap).</summary>
    public bool PostActive;

    /// <summary>What a GET still gets once the session is closed: a close packet, or a noop when the client closed.</summary>
    public EnginePacket? FinalPacket;

    /// <summary>The WebSocket probing an upgrade, from its accept until it commits or fails.</summary>
    public WebSocket? Probe;

    /// <summary>The probe has sent <c>2probe</c> and been answered: polls end with a noop until it commits or fails.</summary>
    public bool Upgrading;

    /// <summary>The due time of the probe's upgrade timeout (0: none).</summary>
    public long UpgradeDue;
}

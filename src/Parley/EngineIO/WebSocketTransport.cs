using System.Net.WebSockets;

namespace Parley.EngineIO;

/// <summary>
/// What a connection holds while it uses a WebSocket (engine.io lib/transports/websocket.ts). There is no writer
/// task while nothing is queued: a send queues this object on the thread pool, whose one run writes until the
/// queue is empty (<c>EngineConnection.WebSocket.cs</c>). Guarded by the connection's lock.
/// </summary>
internal sealed class WebSocketTransport(EngineConnection connection) : IThreadPoolWorkItem
{
    /// <summary>The accepted socket; null until the handshake's 101 is out.</summary>
    public WebSocket? Socket;

    /// <summary>The stream under <see cref="Socket"/> when it can hold frames back (null: every frame goes at once).</summary>
    public CorkedStream? Cork;

    /// <summary>A writer is running or queued: it owns the socket's send side until the queue is empty.</summary>
    public bool Sending;

    /// <summary>The due time of the write under way when it did not complete at once (0: none).</summary>
    public long WriteDue;

    /// <summary>The write deadline passed and aborted the socket.</summary>
    public bool WriteTimedOut;

    void IThreadPoolWorkItem.Execute() => _ = connection.WriteLoopAsync(this);
}

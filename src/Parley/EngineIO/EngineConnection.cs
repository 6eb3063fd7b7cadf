using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Parley.Protocol.EngineIO;

namespace Parley.EngineIO;

/// <summary>
/// One Engine.IO session: a client reachable over HTTP long-polling or a WebSocket, with heartbeats and an
/// outgoing queue that the current transport drains. Everything here is thread-safe; no lock is held across I/O.
/// </summary>
/// <remarks>
/// Split by concern: this file holds state, sending and closing; <c>EngineConnection.Polling.cs</c> the HTTP
/// transport; <c>EngineConnection.WebSocket.cs</c> the WebSocket transport and the upgrade; the heartbeat is below.
/// </remarks>
public sealed partial class EngineConnection
{
    private readonly EngineServer _server;
    private readonly EngineOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Lock _receiveLock = new();
    private List<EnginePacket> _outbox = [];
    private long _outboxBytes;
    private long _writingBytes;
    private TaskCompletionSource? _outboxSignal;
    private EngineConnectionState _state = EngineConnectionState.Open;
    private ITimer? _pingIntervalTimer;
    private ITimer? _pingTimeoutTimer;
    private string? _closeReason;
    private bool _closing;
    private ITimer? _closeTimer;
    private TimeSpan _closeGrace;

    internal EngineConnection(EngineServer server, string id, EngineTransport transport, EngineHandshake handshake, int protocol = 4, bool supportsBinary = true)
    {
        Protocol = protocol;
        SupportsBinary = supportsBinary;
        _server = server;
        _options = server.Options;
        _logger = server.Logger;
        Id = id;
        Transport = transport;
        Handshake = handshake;
    }

    /// <summary>The session id (<c>sid</c>), 20 characters from a CSPRNG.</summary>
    public string Id { get; }

    /// <summary>The transport in use.</summary>
    public EngineTransport Transport { get; private set; }

    /// <summary>What the opening request carried.</summary>
    public EngineHandshake Handshake { get; }

    /// <summary>The Engine.IO protocol revision: 4, or 3 for socket.io-client 2.x (<see cref="EngineOptions.AllowEIO3"/>).</summary>
    public int Protocol { get; }

    /// <summary>
    /// False when the client asked for binary as base64 text (<c>b64</c> in the handshake query, engine.io
    /// transport.ts <c>supportsBinary</c>); only v3 payloads and frames depend on it.
    /// </summary>
    public bool SupportsBinary { get; }

    /// <summary>Open until closed.</summary>
    public EngineConnectionState State
    {
        get
        {
            lock (_lock)
            {
                return _state;
            }
        }
    }

    /// <summary>
    /// True when a packet sent now goes out at once: a poll is waiting, or the WebSocket has nothing queued.
    /// Volatile emits are dropped when this is false, as in engine.io.
    /// </summary>
    public bool IsWritable
    {
        get
        {
            lock (_lock)
            {
                return _state == EngineConnectionState.Open && _outbox.Count == 0 &&
                    (Transport == EngineTransport.WebSocket ? !_wsSending : _pollActive);
            }
        }
    }

    /// <summary>
    /// Held while a message is delivered to <see cref="MessageReceived"/>. The layer above takes it to finish work
    /// that the client's next messages must not overtake (a namespace connection and its handlers).
    /// </summary>
    internal Lock ReceiveLock => _receiveLock;

    /// <summary>Receives the client's messages (set before the connection's first message is read).</summary>
    public EngineMessageHandler? MessageReceived { get; set; }

    /// <summary>Called once when the connection closes, with the reason (<see cref="EngineCloseReasons"/>).</summary>
    public Action<EngineConnection, string>? Closed { get; set; }

    /// <summary>Called when the connection switches from polling to WebSocket.</summary>
    public Action<EngineConnection>? Upgraded { get; set; }

    /// <summary>Arbitrary state of the layer above (the Socket.IO client object).</summary>
    public object? Owner { get; set; }

    /// <summary>The reason the connection closed, once it has.</summary>
    public string? CloseReason
    {
        get
        {
            lock (_lock)
            {
                return _closeReason;
            }
        }
    }

    /// <summary>
    /// Queues a packet for the client. Returns false when the connection is closed. A connection whose buffered
    /// bytes would grow past <see cref="EngineOptions.MaxOutgoingBufferSize"/> is closed as a transport error.
    /// </summary>
    public bool Send(EnginePacket packet)
    {
        ArgumentNullException.ThrowIfNull(packet);
        return Enqueue(new ReadOnlySpan<EnginePacket>(in packet));
    }

    /// <summary>
    /// Queues several packets at once, in order and with nothing from another sender between them (a Socket.IO
    /// packet and its binary attachments: the client's decoder fails if another text packet splits them).
    /// </summary>
    public bool Send(ReadOnlySpan<EnginePacket> packets)
    {
        foreach (var packet in packets)
        {
            ArgumentNullException.ThrowIfNull(packet, nameof(packets));
        }
        return Enqueue(packets);
    }

    /// <summary>
    /// Adds packets to the queue under one lock section with one limit check, so they are never split. The limit
    /// counts what is queued and what a transport has taken but not written yet (<see cref="_writingBytes"/>): a
    /// writer stuck on a stalled client still holds its batch, and that memory is this connection's too.
    /// </summary>
    private bool Enqueue(ReadOnlySpan<EnginePacket> packets)
    {
        long bytes = 0;
        foreach (var packet in packets)
        {
            bytes += packet.Length;
        }
        TaskCompletionSource? signal = null;
        bool overflow;
        lock (_lock)
        {
            if (_state != EngineConnectionState.Open || _closing)
            {
                return false;
            }
            overflow = _outboxBytes + _writingBytes + bytes > _options.MaxOutgoingBufferSize;
            if (!overflow)
            {
                _outbox.AddRange(packets);
                _outboxBytes += bytes;
                signal = _outboxSignal;
                _outboxSignal = null;
            }
        }
        if (overflow)
        {
            EngineLog.OutgoingBufferFull(_logger, Id, _options.MaxOutgoingBufferSize);
            _server.Metrics.OutgoingBufferFull();
            OnClose(EngineCloseReasons.TransportError);
            return false;
        }
        signal?.TrySetResult();
        return true;
    }

    /// <summary>
    /// Closes the connection from the server side (reason <c>forced close</c>) once what is queued has been
    /// written, or after 30 s (engine.io socket.ts close: waits for the write buffer to drain).
    /// </summary>
    public void Close() => Close(TimeSpan.Zero);

    /// <summary>
    /// As <see cref="Close()"/>, but over WebSocket, once the queue is written, gives the peer up to
    /// <paramref name="peerGrace"/> to close first. socket.io-client closes its connection by itself when the server
    /// has disconnected its last namespace, but it handles a received packet on the next timer tick: a close frame
    /// (and the TCP FIN) arriving in the same read would win, and the client would report "transport close" and
    /// reconnect instead of "io server disconnect".
    /// </summary>
    internal void Close(TimeSpan peerGrace)
    {
        TaskCompletionSource? signal;
        lock (_lock)
        {
            if (_state != EngineConnectionState.Open || _closing)
            {
                return;
            }
            _closeGrace = Transport == EngineTransport.WebSocket ? peerGrace : TimeSpan.Zero;
            // With nothing queued the close is immediate, except on polling with no GET pending: then, as in
            // engine.io (polling.ts doClose: shouldClose), the sid stays valid until the client's next GET, which
            // gets the close packet. Forgetting the sid at once would answer that GET with 400, and the client
            // would report a "transport error" instead of the server's close.
            if (_outbox.Count == 0 && (Transport != EngineTransport.Polling || _pollActive || _upgrading))
            {
                goto now;
            }
            _closing = true;
            signal = _outboxSignal;
            _outboxSignal = null;
        }
        signal?.TrySetResult();
        _closeTimer = _server.Time.CreateTimer(static s => ((EngineConnection)s!).OnClose(EngineCloseReasons.ForcedClose),
            this, TimeSpan.FromSeconds(30), Timeout.InfiniteTimeSpan);
        return;

    now:
        CloseAfterDrain();
    }

    /// <summary>What is queued is written: close now, or leave the peer its grace to close first.</summary>
    private void CloseAfterDrain()
    {
        if (_closeGrace <= TimeSpan.Zero)
        {
            OnClose(EngineCloseReasons.ForcedClose);
            return;
        }
        var previous = _closeTimer;
        _closeTimer = _server.Time.CreateTimer(static s => ((EngineConnection)s!).OnClose(EngineCloseReasons.ForcedClose),
            this, _closeGrace, Timeout.InfiniteTimeSpan);
        previous?.Dispose();
    }

    /// <summary>True when a graceful close waits for the queue to drain and it just did. Call under the lock.</summary>
    private bool DrainedForClose => _closing && _outbox.Count == 0;

    /// <summary>Closes with a given reason; idempotent. Queued packets are dropped.</summary>
    internal void OnClose(string reason)
    {
        TaskCompletionSource? signal;
        WebSocket? ws;
        WebSocket? probe;
        bool lingerForPoll;
        lock (_lock)
        {
            if (_state == EngineConnectionState.Closed)
            {
                return;
            }
            _state = EngineConnectionState.Closed;
            _closeReason = reason;
            // A pending poll is answered with a close packet, or with a noop when the client itself closed
            // (engine.io transports/polling.ts onClose writes a noop to a writable poll).
            _finalPollPacket = reason == EngineCloseReasons.TransportClose ? EnginePacket.Noop : EnginePacket.Close;
            _outbox = [];
            _outboxBytes = 0;
            _writingBytes = 0;
            signal = _outboxSignal;
            _outboxSignal = null;
            ws = _ws;
            probe = _probe;
            _probe = null;
            lingerForPoll = reason == EngineCloseReasons.TransportClose && Transport == EngineTransport.Polling && !_pollActive;
        }
        _pingIntervalTimer?.Dispose();
        _pingTimeoutTimer?.Dispose();
        _upgradeTimer?.Dispose();
        _closeTimer?.Dispose();
        _closeTimer = null;
        signal?.TrySetResult();
        if (lingerForPoll)
        {
            // The client's close packet (POST "1") can overtake its own pending GET on another HTTP connection.
            // Had the GET arrived first it would get the noop (polling.ts onClose); keep the sid long enough for
            // a racing GET to get it, then forget it.
            _closeTimer = _server.Time.CreateTimer(static s => ((EngineConnection)s!).ForgetLingeringPoll(),
                this, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        }
        else
        {
            _server.Remove(this);
        }
        AbortWebSocket(ws);
        AbortWebSocket(probe);
        EngineLog.ConnectionClosed(_logger, Id, reason);
        _server.Metrics.EngineClosed(Transport, _server.Time.GetUtcNow() - Handshake.Time, reason);
        try
        {
            Closed?.Invoke(this, reason);
        }
        catch (Exception ex)
        {
            EngineLog.CallbackFailed(_logger, Id, ex);
        }
    }

    /// <summary>True while a closed polling session still owes a racing GET its final noop.</summary>
    internal bool HasLingeringPoll
    {
        get
        {
            lock (_lock)
            {
                return _state == EngineConnectionState.Closed && _finalPollPacket is not null;
            }
        }
    }

    private void ForgetLingeringPoll()
    {
        lock (_lock)
        {
            _finalPollPacket = null;
        }
        _closeTimer?.Dispose();
        _server.Remove(this);
    }

    /// <summary>
    /// Takes everything queued; null when nothing is. Call under the lock. The bytes taken stay counted against the
    /// limit until the transport reports them written with <see cref="Written"/>.
    /// </summary>
    private List<EnginePacket>? TakeOutbox(out long bytes)
    {
        bytes = _outboxBytes;
        if (_outbox.Count == 0)
        {
            return null;
        }
        var packets = _outbox;
        _outbox = [];
        _writingBytes += _outboxBytes;
        _outboxBytes = 0;
        return packets;
    }

    /// <summary>A transport has written <paramref name="bytes"/> it took with <see cref="TakeOutbox"/>.</summary>
    private void Written(long bytes)
    {
        lock (_lock)
        {
            // OnClose zeroes the counters; a write finishing after it has nothing left to give back.
            if (_state == EngineConnectionState.Open)
            {
                _writingBytes -= bytes;
            }
        }
    }

    /// <summary>A task that completes when something is queued or the state changes. Call under the lock.</summary>
    private Task OutboxSignal() => (_outboxSignal ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    private void WakeConsumers()
    {
        TaskCompletionSource? signal;
        lock (_lock)
        {
            signal = _outboxSignal;
            _outboxSignal = null;
        }
        signal?.TrySetResult();
    }

    /// <summary>Handles one decoded packet from either transport.</summary>
    private void OnPacket(EnginePacketType type, bool isBinary, ReadOnlySpan<byte> data)
    {
        if (State != EngineConnectionState.Open)
        {
            return;
        }
        _server.Metrics.EngineReceived(Transport, isBinary ? data.Length : data.Length + 1);
        switch (type)
        {
            case EnginePacketType.Message:
                lock (_receiveLock)
                {
                    try
                    {
                        MessageReceived?.Invoke(this, new EngineMessage(data, isBinary));
                    }
                    catch (Exception ex)
                    {
                        EngineLog.CallbackFailed(_logger, Id, ex);
                    }
                }
                break;
            case EnginePacketType.Pong when Protocol == 4:
                _pingTimeoutTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                _pingIntervalTimer?.Change(_options.PingInterval, Timeout.InfiniteTimeSpan);
                break;
            case EnginePacketType.Ping when Protocol == 3:
                // v3 clients ping and the server answers; each ping restarts the timeout (socket.ts onPacket).
                _pingTimeoutTimer?.Change(V3PingTimeout, Timeout.InfiniteTimeSpan);
                Send(EnginePacket.Pong);
                break;
            case EnginePacketType.Ping:
            case EnginePacketType.Pong:
                // v4 servers ping and clients answer, v3 the other way round; the wrong direction is an error
                // (engine.io socket.ts onPacket).
                EngineLog.BadPacket(_logger, Id, "invalid heartbeat direction");
                OnClose(EngineCloseReasons.TransportError);
                break;
            case EnginePacketType.Close:
                OnClose(EngineCloseReasons.TransportClose);
                break;
            case EnginePacketType.Open:
                EngineLog.BadPacket(_logger, Id, "open packet from client");
                OnClose(EngineCloseReasons.ParseError);
                break;
            default:
                // upgrade and noop outside an upgrade carry nothing.
                break;
        }
    }

    /// <summary>Starts the heartbeat: a ping every PingInterval, a close when no pong follows within PingTimeout.</summary>
    internal void StartHeartbeat(TimeProvider time)
    {
        if (Protocol == 3)
        {
            // v3: the client pings every pingInterval; it is gone when no ping came for pingInterval + pingTimeout
            // (socket.ts resetPingTimeout). The server sends no pings.
            _pingTimeoutTimer = time.CreateTimer(static s => ((EngineConnection)s!).OnClose(EngineCloseReasons.PingTimeout),
                this, V3PingTimeout, Timeout.InfiniteTimeSpan);
            return;
        }
        _pingTimeoutTimer = time.CreateTimer(static s => ((EngineConnection)s!).OnClose(EngineCloseReasons.PingTimeout),
            this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _pingIntervalTimer = time.CreateTimer(static s =>
        {
            var self = (EngineConnection)s!;
            if (self.Send(EnginePacket.Ping))
            {
                self._pingTimeoutTimer?.Change(self._options.PingTimeout, Timeout.InfiniteTimeSpan);
            }
        }, this, _options.PingInterval, Timeout.InfiniteTimeSpan);
    }

    private TimeSpan V3PingTimeout => _options.PingInterval + _options.PingTimeout;

    private static void AbortWebSocket(WebSocket? ws)
    {
        if (ws is null)
        {
            return;
        }
        if (ws.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            _ = CloseThenAbortAsync(ws);
        }
        else
        {
            ws.Abort();
        }
    }

    /// <summary>
    /// Sends a close frame and gives the peer a moment to answer it before aborting. The read loop, still running,
    /// receives the peer's close and ends the request, so Kestrel flushes our close frame and shuts the connection
    /// down cleanly. Aborting right after CloseOutputAsync (as before) tore the connection down with the close
    /// frame still unsent, so clients saw a reset instead of a close (e.g. at server shutdown).
    /// </summary>
    private static async Task CloseThenAbortAsync(WebSocket ws)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token);
            await Task.Delay(TimeSpan.FromSeconds(2));
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The peer is gone already.
        }
        ws.Abort();
    }
}

/// <summary>The life of a connection.</summary>
public enum EngineConnectionState
{
    /// <summary>Open: packets flow.</summary>
    Open,

    /// <summary>Closed for good.</summary>
    Closed,
}

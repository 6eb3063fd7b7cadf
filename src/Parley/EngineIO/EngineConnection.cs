using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Parley.Protocol.EngineIO;

namespace Parley.EngineIO;

/// <summary>
/// One Engine.IO session: a client reachable over HTTP long-polling or a WebSocket, with heartbeats and an
/// outgoing queue that the current transport drains. Everything here is thread-safe; no lock is held across I/O.
/// </summary>
/// <remarks>
/// Split by concern: this file holds the state machine (<see cref="EngineConnectionState"/>), sending, closing and
/// the heartbeat; <c>EngineConnection.Polling.cs</c> serves the HTTP transport; <c>EngineConnection.WebSocket.cs</c>
/// the WebSocket transport and the upgrade. What each transport needs per connection lives in its own object
/// (<see cref="PollingTransport"/>, <see cref="WebSocketTransport"/>), so a connection carries only the one it uses.
/// Timers are the server's <see cref="EngineHeartbeat"/>: a connection keeps only the due times of its deadlines.
/// </remarks>
public sealed partial class EngineConnection
{
    private readonly EngineServer _server;
    private readonly EngineOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private List<EnginePacket> _outbox = [];
    private long _outboxBytes;
    private long _writingBytes;
    private TaskCompletionSource? _outboxSignal;
    // Opening, open, closing or closed; "upgrading" is open with a polling transport whose probe is upgrading.
    private EngineConnectionState _state = EngineConnectionState.Opening;
    // A PollingTransport or a WebSocketTransport.
    private object _transport;
    // Due times (UTC ticks, 0 for none) of this connection's deadlines on the server's heartbeat.
    private long _pingDue;
    private long _pingTimeoutDue;
    private long _closeDue;
    private string? _closeReason;
    private TimeSpan _closeGrace;

    /// <summary>Where this connection's deadlines sit in the heartbeat's heap (the heartbeat's, under its lock).</summary>
    internal EngineDeadlineSlots HeapSlots;

    internal EngineConnection(EngineServer server, string id, EngineTransport transport, EngineHandshake handshake, int protocol = 4, bool supportsBinary = true)
    {
        Protocol = protocol;
        SupportsBinary = supportsBinary;
        _server = server;
        _options = server.Options;
        _logger = server.Logger;
        Id = id;
        _transport = transport == EngineTransport.WebSocket ? new WebSocketTransport(this) : new PollingTransport();
        Handshake = handshake;
    }

    /// <summary>The session id (<c>sid</c>), 20 characters from a CSPRNG.</summary>
    public string Id { get; }

    /// <summary>The transport in use.</summary>
    public EngineTransport Transport => _transport is WebSocketTransport ? EngineTransport.WebSocket : EngineTransport.Polling;

    /// <summary>What the opening request carried.</summary>
    public EngineHandshake Handshake { get; }

    /// <summary>The Engine.IO protocol revision: 4, or 3 for socket.io-client 2.x (<see cref="EngineOptions.AllowEIO3"/>).</summary>
    public int Protocol { get; }

    /// <summary>
    /// False when the client asked for binary as base64 text (<c>b64</c> in the handshake query, engine.io
    /// transport.ts <c>supportsBinary</c>); only v3 payloads and frames depend on it.
    /// </summary>
    public bool SupportsBinary { get; }

    /// <summary>Where the connection is in its life (<see cref="EngineConnectionState"/>).</summary>
    public EngineConnectionState State
    {
        get
        {
            lock (_lock)
            {
                return _state == EngineConnectionState.Open && _transport is PollingTransport { Upgrading: true }
                    ? EngineConnectionState.Upgrading
                    : _state;
            }
        }
    }

    /// <summary>True once the connection has closed for good.</summary>
    internal bool IsClosed
    {
        get
        {
            lock (_lock)
            {
                return _state == EngineConnectionState.Closed;
            }
        }
    }

    /// <summary>Packets can be queued: opening, open or upgrading (not closing, not closed). Call under the lock.</summary>
    private bool Accepting => _state is EngineConnectionState.Opening or EngineConnectionState.Open;

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
                return _state == EngineConnectionState.Open && _outbox.Count == 0 && _transport switch
                {
                    WebSocketTransport ws => !ws.Sending,
                    PollingTransport polling => polling.PollActive,
                    _ => false,
                };
            }
        }
    }

    /// <summary>
    /// Receives the client's messages (set before the connection's first message is read). They come from one reader
    /// at a time, in the client's order: the WebSocket's read loop, or the one POST a polling session may have in
    /// flight. The reader waits for the callback.
    /// </summary>
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
        WebSocketTransport? startWriter = null;
        bool overflow;
        lock (_lock)
        {
            if (!Accepting)
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
                startWriter = ClaimWriter();
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
        StartWriter(startWriter);
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
            if (!Accepting)
            {
                return;
            }
            _closeGrace = _transport is WebSocketTransport ? peerGrace : TimeSpan.Zero;
            // With nothing queued the close is immediate, except on polling with no GET pending: then, as in
            // engine.io (polling.ts doClose: shouldClose), the sid stays valid until the client's next GET, which
            // gets the close packet. Forgetting the sid at once would answer that GET with 400, and the client
            // would report a "transport error" instead of the server's close.
            if (_outbox.Count == 0 && _transport is not PollingTransport { PollActive: false, Upgrading: false })
            {
                goto now;
            }
            _state = EngineConnectionState.Closing;
            signal = _outboxSignal;
            _outboxSignal = null;
            _closeDue = SetDeadline(EngineDeadline.Close, CloseTimeout);
        }
        signal?.TrySetResult();
        return;

    now:
        CloseAfterDrain();
    }

    /// <summary>How long a graceful close waits for the queue to drain before it closes anyway.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(30);

    /// <summary>What is queued is written: close now, or leave the peer its grace to close first.</summary>
    private void CloseAfterDrain()
    {
        lock (_lock)
        {
            if (_closeGrace <= TimeSpan.Zero || _state == EngineConnectionState.Closed)
            {
                goto now;
            }
            _closeDue = SetDeadline(EngineDeadline.Close, _closeGrace);
        }
        return;

    now:
        OnClose(EngineCloseReasons.ForcedClose);
    }

    /// <summary>True when a graceful close waits for the queue to drain and it just did. Call under the lock.</summary>
    private bool DrainedForClose => _state == EngineConnectionState.Closing && _outbox.Count == 0;

    /// <summary>Closes with a given reason; idempotent. Queued packets are dropped.</summary>
    internal void OnClose(string reason)
    {
        TaskCompletionSource? signal;
        WebSocket? ws = null;
        WebSocket? probe = null;
        var lingerForPoll = false;
        lock (_lock)
        {
            if (_state == EngineConnectionState.Closed)
            {
                return;
            }
            _state = EngineConnectionState.Closed;
            _closeReason = reason;
            _outbox = [];
            _outboxBytes = 0;
            _writingBytes = 0;
            signal = _outboxSignal;
            _outboxSignal = null;
            // Every deadline goes: the heartbeat keeps no closed connection alive.
            _pingDue = _pingTimeoutDue = _closeDue = 0;
            _server.Heartbeat.CancelAll(this);
            if (_transport is PollingTransport polling)
            {
                // A pending poll is answered with a close packet, or with a noop when the client itself closed
                // (engine.io transports/polling.ts onClose writes a noop to a writable poll).
                polling.FinalPacket = reason == EngineCloseReasons.TransportClose ? EnginePacket.Noop : EnginePacket.Close;
                probe = polling.Probe;
                polling.Probe = null;
                polling.Upgrading = false;
                polling.UpgradeDue = 0;
                lingerForPoll = reason == EngineCloseReasons.TransportClose && !polling.PollActive;
                if (lingerForPoll)
                {
                    // The client's close packet (POST "1") can overtake its own pending GET on another HTTP
                    // connection. Had the GET arrived first it would get the noop (polling.ts onClose); keep the sid
                    // long enough for a racing GET to get it, then forget it.
                    _closeDue = SetDeadline(EngineDeadline.Close, LingerTime);
                }
            }
            else if (_transport is WebSocketTransport transport)
            {
                ws = transport.Socket;
                transport.WriteDue = 0;
            }
        }
        signal?.TrySetResult();
        if (!lingerForPoll)
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

    /// <summary>How long a polling session the client closed stays known for its racing GET.</summary>
    private static readonly TimeSpan LingerTime = TimeSpan.FromSeconds(1);

    /// <summary>True while a closed polling session still owes a racing GET its final noop.</summary>
    internal bool HasLingeringPoll
    {
        get
        {
            lock (_lock)
            {
                return _state == EngineConnectionState.Closed && _transport is PollingTransport { FinalPacket: not null };
            }
        }
    }

    private void ForgetLingeringPoll()
    {
        lock (_lock)
        {
            if (_transport is PollingTransport polling)
            {
                polling.FinalPacket = null;
            }
        }
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
            if (_state != EngineConnectionState.Closed)
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
        if (IsClosed)
        {
            return;
        }
        _server.Metrics.EngineReceived(Transport, isBinary ? data.Length : data.Length + 1);
        switch (type)
        {
            case EnginePacketType.Message:
                try
                {
                    MessageReceived?.Invoke(this, new EngineMessage(data, isBinary));
                }
                catch (Exception ex)
                {
                    EngineLog.CallbackFailed(_logger, Id, ex);
                }
                break;
            case EnginePacketType.Pong when Protocol == 4:
                // socket.ts onPacket "pong": clear the ping timeout, schedule the next ping.
                Schedule(EngineDeadline.Ping, _options.PingInterval, cancelPingTimeout: true);
                break;
            case EnginePacketType.Ping when Protocol == 3:
                // v3 clients ping and the server answers; each ping restarts the timeout (socket.ts onPacket).
                Schedule(EngineDeadline.PingTimeout, V3PingTimeout);
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

    /// <summary>
    /// The handshake is answered: the connection is open and its heartbeat starts, a ping every PingInterval and a
    /// close when no pong follows within PingTimeout (v4), or a close when the client's pings stop (v3).
    /// </summary>
    internal void StartHeartbeat()
    {
        lock (_lock)
        {
            if (_state == EngineConnectionState.Opening)
            {
                _state = EngineConnectionState.Open;
            }
        }
        // v3: the client pings every pingInterval; it is gone when no ping came for pingInterval + pingTimeout
        // (socket.ts resetPingTimeout). The server sends no pings.
        Schedule(Protocol == 3 ? EngineDeadline.PingTimeout : EngineDeadline.Ping, Protocol == 3 ? V3PingTimeout : _options.PingInterval);
    }

    private TimeSpan V3PingTimeout => _options.PingInterval + _options.PingTimeout;

    /// <summary>Sets (or moves) the ping or ping-timeout deadline; nothing once closed.</summary>
    private void Schedule(EngineDeadline kind, TimeSpan after, bool cancelPingTimeout = false)
    {
        lock (_lock)
        {
            if (_state == EngineConnectionState.Closed)
            {
                return;
            }
            if (cancelPingTimeout)
            {
                _pingTimeoutDue = 0;
                CancelDeadline(EngineDeadline.PingTimeout);
            }
            var due = SetDeadline(kind, after);
            if (kind == EngineDeadline.Ping)
            {
                _pingDue = due;
            }
            else
            {
                _pingTimeoutDue = due;
            }
        }
    }

    /// <summary>Puts a deadline <paramref name="after"/> from now on the heartbeat; returns its due time. Call under the lock.</summary>
    private long SetDeadline(EngineDeadline kind, TimeSpan after)
    {
        var due = _server.Heartbeat.DueIn(after);
        _server.Heartbeat.Set(this, kind, due);
        return due;
    }

    /// <summary>Takes a deadline off the heartbeat. Call under the lock.</summary>
    private void CancelDeadline(EngineDeadline kind) => _server.Heartbeat.Cancel(this, kind);

    /// <summary>
    /// A deadline of this connection came up on the heartbeat. It acts only when it is still the connection's
    /// current one for <paramref name="kind"/> (same due time): it may have been moved or cancelled between the
    /// heartbeat taking it and this call.
    /// </summary>
    internal void OnDeadline(EngineDeadline kind, long due)
    {
        try
        {
            OnDeadlineCore(kind, due);
        }
        catch (Exception ex)
        {
            // On the heartbeat's thread: nothing may escape (it would end the process).
            EngineLog.CallbackFailed(_logger, Id, ex);
        }
    }

    private void OnDeadlineCore(EngineDeadline kind, long due)
    {
        WebSocket? probe = null;
        WebSocket? stalled = null;
        bool closed;
        lock (_lock)
        {
            closed = _state == EngineConnectionState.Closed;
            switch (kind)
            {
                case EngineDeadline.Ping when _pingDue == due:
                    _pingDue = 0;
                    break;
                case EngineDeadline.PingTimeout when _pingTimeoutDue == due:
                    _pingTimeoutDue = 0;
                    break;
                case EngineDeadline.Close when _closeDue == due:
                    _closeDue = 0;
                    break;
                case EngineDeadline.Upgrade when _transport is PollingTransport { UpgradeDue: var d } polling && d == due:
                    polling.UpgradeDue = 0;
                    probe = polling.Probe;
                    break;
                case EngineDeadline.Write when _transport is WebSocketTransport { WriteDue: var d } ws && d == due:
                    ws.WriteDue = 0;
                    ws.WriteTimedOut = true;
                    stalled = ws.Socket;
                    break;
                default:
                    return; // stale
            }
        }
        switch (kind)
        {
            case EngineDeadline.Ping:
                if (Send(EnginePacket.Ping))
                {
                    Schedule(EngineDeadline.PingTimeout, _options.PingTimeout);
                }
                break;
            case EngineDeadline.PingTimeout:
                OnClose(EngineCloseReasons.PingTimeout);
                break;
            case EngineDeadline.Close when closed:
                ForgetLingeringPoll();
                break;
            case EngineDeadline.Close:
                OnClose(EngineCloseReasons.ForcedClose);
                break;
            case EngineDeadline.Upgrade when probe is not null:
                FailUpgrade(probe, "upgrade timeout");
                break;
            case EngineDeadline.Write:
                // A client that has taken nothing for pingInterval + pingTimeout: the write loop sees the abort.
                stalled?.Abort();
                break;
        }
    }

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

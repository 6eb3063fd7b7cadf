using System.Buffers;
using System.Net.WebSockets;
using Parley.Protocol.EngineIO;

namespace Parley.EngineIO;

// The WebSocket transport (engine.io lib/transports/websocket.ts) and the polling → WebSocket upgrade
// (engine.io lib/socket.ts _maybeUpgrade).
public sealed partial class EngineConnection
{
    /// <summary>True when the WebSocket's writer sends a batch of frames as one write (<see cref="CorkedStream"/>).</summary>
    internal bool WritesBatched
    {
        get
        {
            lock (_lock)
            {
                return _transport is WebSocketTransport { Cork: not null };
            }
        }
    }

    /// <summary>True once an upgrade has started or finished: a second WebSocket for this sid is refused.</summary>
    internal bool UpgradeStartedOrDone
    {
        get
        {
            lock (_lock)
            {
                return _transport is not PollingTransport { Probe: null };
            }
        }
    }

    /// <summary>
    /// Runs a WebSocket-only session until it closes: the task is the read loop's (not wrapped in an async method of
    /// its own, one state machine less per connection); a writer runs only while something is queued
    /// (<see cref="ClaimWriter"/>).
    /// </summary>
    internal Task RunWebSocketAsync(WebSocket ws, CorkedStream? cork = null)
    {
        WebSocketTransport? writer;
        lock (_lock)
        {
            var transport = (WebSocketTransport)_transport;
            transport.Socket = ws;
            transport.Cork = cork;
            writer = ClaimWriter(); // the open packet, and whatever the layer above sent at once
        }
        StartWriter(writer);
        return ReadLoopAsync(ws, probing: false);
    }

    /// <summary>
    /// Runs a WebSocket that asks to upgrade this polling session: <c>2probe</c> → <c>3probe</c>, then <c>5</c>
    /// commits. Anything else during the probe, or no <c>5</c> within UpgradeTimeout, drops the new transport only.
    /// </summary>
    internal async Task RunUpgradeAsync(WebSocket ws, CorkedStream? cork = null)
    {
        lock (_lock)
        {
            if (_state == EngineConnectionState.Closed || _transport is not PollingTransport { Probe: null } polling)
            {
                goto refuse;
            }
            polling.Probe = ws;
            polling.UpgradeDue = SetDeadline(EngineDeadline.Upgrade, _options.UpgradeTimeout);
        }

        var upgraded = await ReadLoopAsync(ws, probing: true, cork);
        if (!upgraded)
        {
            FailUpgrade(ws, "transport closed during upgrade");
            return;
        }
        if (IsClosed)
        {
            return;
        }
        await ReadLoopAsync(ws, probing: false);
        return;

    refuse:
        AbortWebSocket(ws);
    }

    private void FailUpgrade(WebSocket ws, string why)
    {
        var wasProbe = false;
        lock (_lock)
        {
            if (_transport is PollingTransport polling && ReferenceEquals(polling.Probe, ws))
            {
                wasProbe = true;
                polling.Probe = null;
                polling.Upgrading = false;
                polling.UpgradeDue = 0;
                CancelDeadline(EngineDeadline.Upgrade);
            }
        }
        if (wasProbe)
        {
            EngineLog.UpgradeFailed(_logger, Id, why);
            AbortWebSocket(ws);
        }
    }

    /// <summary>Handles one text frame received during the probe; returns true when the upgrade is committed.</summary>
    private bool OnProbeFrame(WebSocket ws, CorkedStream? cork, bool isBinary, ReadOnlySpan<byte> frame, out bool fail)
    {
        fail = false;
        if (!isBinary && frame.SequenceEqual("2probe"u8))
        {
            lock (_lock)
            {
                if (_transport is PollingTransport polling)
                {
                    polling.Upgrading = true;
                }
            }
            // Answer on the new transport directly: its writer does not run until the upgrade is committed.
            _ = SendDirectAsync(ws, EnginePacket.ProbePong);
            WakeConsumers(); // a pending poll answers with a noop so the client can pause polling
            return false;
        }
        if (!isBinary && frame.SequenceEqual("5"u8))
        {
            WebSocketTransport? writer;
            lock (_lock)
            {
                if (_transport is not PollingTransport { Upgrading: true } || _state == EngineConnectionState.Closed)
                {
                    fail = true;
                    return false;
                }
                // The polling transport's state goes with it; a poll still pending holds its own reference and ends
                // with a noop (socket.ts _maybeUpgrade: the old transport is discarded once drained).
                CancelDeadline(EngineDeadline.Upgrade);
                _transport = new WebSocketTransport(this) { Socket = ws, Cork = cork };
                writer = ClaimWriter(); // queued packets move to the WebSocket
            }
            WakeConsumers(); // the pending poll (if any) ends with a noop
            StartWriter(writer);
            EngineLog.Upgraded(_logger, Id);
            _server.Metrics.EngineUpgraded();
            try
            {
                Upgraded?.Invoke(this);
            }
            catch (Exception ex)
            {
                EngineLog.CallbackFailed(_logger, Id, ex);
            }
            return true;
        }
        fail = true;
        return false;
    }

    private async Task SendDirectAsync(WebSocket ws, EnginePacket packet)
    {
        try
        {
            await ws.SendAsync(packet.Frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            FailUpgrade(ws, "probe write failed");
        }
    }

    /// <summary>
    /// Reads messages until the socket closes, then closes the connection (reason <c>transport close</c> unless
    /// another came first); or, when <paramref name="probing"/>, until the upgrade commits (returns true then) or
    /// the probe fails. Idle connections hold no buffer: a zero-byte read waits for data first.
    /// </summary>
    private async Task<bool> ReadLoopAsync(WebSocket ws, bool probing, CorkedStream? cork = null)
    {
        var limit = _options.MaxHttpBufferSize;
        byte[]? buffer = null;
        try
        {
            while (ws.State == WebSocketState.Open)
            {
                var peek = await ws.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
                if (peek.MessageType == WebSocketMessageType.Close)
                {
                    return false;
                }
                buffer = ArrayPool<byte>.Shared.Rent(4096);
                var length = 0;
                var fragments = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == buffer.Length)
                    {
                        if (length >= limit)
                        {
                            EngineLog.BadPacket(_logger, Id, "WebSocket message over maxHttpBufferSize");
                            await CloseWithStatusAsync(ws, WebSocketCloseStatus.MessageTooBig, "max payload size exceeded");
                            OnCloseUnlessProbe(probing, ws, EngineCloseReasons.TransportError);
                            return false;
                        }
                        var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(limit + 1, (long)buffer.Length * 2));
                        buffer.AsSpan(0, length).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                    result = await ws.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return false;
                    }
                    length += result.Count;
                    if (length > limit)
                    {
                        EngineLog.BadPacket(_logger, Id, "WebSocket message over maxHttpBufferSize");
                        await CloseWithStatusAsync(ws, WebSocketCloseStatus.MessageTooBig, "max payload size exceeded");
                        OnCloseUnlessProbe(probing, ws, EngineCloseReasons.TransportError);
                        return false;
                    }
                    if (++fragments > _options.MaxWebSocketFragments)
                    {
                        EngineLog.BadPacket(_logger, Id, "too many WebSocket fragments");
                        await CloseWithStatusAsync(ws, WebSocketCloseStatus.PolicyViolation, "too many fragments");
                        OnCloseUnlessProbe(probing, ws, EngineCloseReasons.TransportError);
                        return false;
                    }
                }
                while (!result.EndOfMessage);

                var isBinary = result.MessageType == WebSocketMessageType.Binary;
                var frame = buffer.AsSpan(0, length);
                if (probing)
                {
                    if (OnProbeFrame(ws, cork, isBinary, frame, out var fail))
                    {
                        return true;
                    }
                    if (fail)
                    {
                        EngineLog.BadPacket(_logger, Id, "unexpected packet during upgrade");
                        FailUpgrade(ws, "unexpected packet during upgrade");
                        return false;
                    }
                }
                else if (Protocol == 3)
                {
                    if (!OnV3Frame(isBinary, frame))
                    {
                        EngineLog.BadPacket(_logger, Id, "malformed packet");
                        OnClose(EngineCloseReasons.ParseError);
                        return false;
                    }
                }
                else if (isBinary)
                {
                    OnPacket(EnginePacketType.Message, isBinary: true, frame);
                }
                else if (EngineFrame.TryParseText(frame, out var type, out var data))
                {
                    OnPacket(type, isBinary: false, data);
                }
                else
                {
                    EngineLog.BadPacket(_logger, Id, "malformed packet");
                    OnClose(EngineCloseReasons.ParseError);
                    return false;
                }
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = null;
            }
            return false;
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer vanished (reset, garbage that is not a valid frame): the transport is gone.
            EngineLog.TransportFailed(_logger, Id, ex.Message);
            if (!probing)
            {
                OnClose(EngineCloseReasons.TransportError);
            }
            return false;
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            if (!probing)
            {
                OnClose(EngineCloseReasons.TransportClose);
            }
        }
    }

    private void OnCloseUnlessProbe(bool probing, WebSocket ws, string reason)
    {
        if (probing)
        {
            FailUpgrade(ws, reason);
        }
        else
        {
            OnClose(reason);
        }
    }

    /// <summary>
    /// Sends a close frame with <paramref name="status"/>, then reads and discards what the peer still sends until
    /// its close frame arrives (at most <see cref="CloseDrainTime"/>), then aborts. Aborting at once would reset a
    /// connection whose unread input (the rest of an oversized message) is still queued, and a TCP reset makes the
    /// peer drop our close frame unread: the client would see a reset instead of 1009 / 1008. ws does the same
    /// (websocket.js receiverOnError: close(code) and resume the socket to drain it).
    /// </summary>
    private static async Task CloseWithStatusAsync(WebSocket ws, WebSocketCloseStatus status, string description)
    {
        byte[]? scratch = null;
        try
        {
            using var cts = new CancellationTokenSource(CloseDrainTime);
            await ws.CloseOutputAsync(status, description, cts.Token);
            scratch = ArrayPool<byte>.Shared.Rent(4096);
            while (ws.State == WebSocketState.CloseSent)
            {
                var result = await ws.ReceiveAsync(scratch.AsMemory(), cts.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // Best effort: the socket is aborted right after.
        }
        finally
        {
            if (scratch is not null)
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }
        ws.Abort();
    }

    /// <summary>How long a refused WebSocket may take to answer our close frame.</summary>
    private static readonly TimeSpan CloseDrainTime = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Under the lock: when this connection's WebSocket is attached, no writer runs and something is queued, marks a
    /// writer as running and returns the transport for <see cref="StartWriter"/> (outside the lock).
    /// </summary>
    private WebSocketTransport? ClaimWriter()
    {
        if (_transport is WebSocketTransport { Socket: not null, Sending: false } ws && _outbox.Count > 0 && _state != EngineConnectionState.Closed)
        {
            ws.Sending = true;
            return ws;
        }
        return null;
    }

    private static void StartWriter(WebSocketTransport? ws)
    {
        if (ws is not null)
        {
            // Not on the sender's thread: a broadcast queues to thousands of connections, and a sender may hold locks.
            ThreadPool.UnsafeQueueUserWorkItem(ws, preferLocal: false);
        }
    }

    /// <summary>
    /// The one writer of a WebSocket, started by a send when none runs (<see cref="ClaimWriter"/>): drains the queue,
    /// a batch at a time (in one write over a <see cref="CorkedStream"/>, else frame by frame), then ends, so an idle connection has no writer task, no signal and no state machine. A batch
    /// gives its bytes back to the buffer limit once all of it is written (the list holds every frame until then),
    /// as the writer takes the next batch.
    /// </summary>
    /// <remarks>
    /// A frame must be written within PingInterval + PingTimeout, or the socket is aborted: a client that has
    /// taken nothing for that long has missed its heartbeat anyway (the ping is queued behind the frame), and
    /// without a deadline a stalled client would pin its batch for as long as the TCP connection lingers. The
    /// deadline is armed only for writes that do not complete at once, so the usual write stays on
    /// ManagedWebSocket's non-cancellable fast path.
    /// </remarks>
    internal async Task WriteLoopAsync(WebSocketTransport transport)
    {
        var ws = transport.Socket!;
        var deflate = _options.PerMessageDeflate;
        var deflateThreshold = _options.PerMessageDeflateThreshold;
        var writeTimeout = _options.PingInterval + _options.PingTimeout;
        var cork = transport.Cork;
        long taken = 0;
        try
        {
            while (true)
            {
                List<EnginePacket>? packets;
                var drained = false;
                lock (_lock)
                {
                    if (_state == EngineConnectionState.Closed)
                    {
                        // OnClose zeroed the counters: the batch just written has nothing to give back.
                        transport.Sending = false;
                        return;
                    }
                    // The batch just written gives its bytes back to the limit in the lock section that takes the
                    // next one: one lock per batch, not two.
                    _writingBytes -= taken;
                    packets = TakeOutbox(out taken);
                    if (packets is null)
                    {
                        transport.Sending = false;
                        drained = DrainedForClose;
                    }
                }
                if (packets is null)
                {
                    if (drained)
                    {
                        CloseAfterDrain();
                    }
                    return;
                }
                for (var i = 0; i < packets.Count; i++)
                {
                    var packet = packets[i];
                    var flags = WebSocketMessageFlags.EndOfMessage;
                    // websocket.ts send: below the threshold a message goes uncompressed.
                    if (!deflate || !packet.Compress || packet.Frame.Length < deflateThreshold)
                    {
                        flags |= WebSocketMessageFlags.DisableCompression;
                    }
                    var (frame, messageType) = Protocol == 3 ? V3Frame(packet) : (packet.Frame, packet.IsBinary ? WebSocketMessageType.Binary : WebSocketMessageType.Text);
                    if (cork is not null)
                    {
                        // Every frame of the batch but the last is held back, up to CorkedStream.Limit; the last (or
                        // the one that would pass the limit) goes out with them in one write and one flush.
                        cork.Corked = i < packets.Count - 1 && cork.Buffered + frame.Length < CorkedStream.Limit;
                    }
                    var write = ws.SendAsync(frame, messageType, flags, CancellationToken.None);
                    if (write.IsCompletedSuccessfully)
                    {
                        write.GetAwaiter().GetResult();
                    }
                    else
                    {
                        lock (_lock)
                        {
                            transport.WriteDue = SetDeadline(EngineDeadline.Write, writeTimeout);
                        }
                        await write;
                        lock (_lock)
                        {
                            transport.WriteDue = 0;
                            CancelDeadline(EngineDeadline.Write);
                        }
                    }
                }
                _server.Metrics.EngineSent(EngineTransport.WebSocket, packets.Count, taken);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            EngineLog.TransportFailed(_logger, Id, transport.WriteTimedOut ? "write timed out" : ex.Message);
            cork?.Corked = false;
            lock (_lock)
            {
                transport.Sending = false;
            }
            OnClose(EngineCloseReasons.TransportError);
        }
    }

    /// <summary>
    /// Reads a v3 WebSocket message (engine.io-parser 2.2 <c>decodePacket</c>): a binary frame starts with its type
    /// byte, a text frame is a v4-style packet or <c>b</c> + type digit + base64 from a client without binary.
    /// </summary>
    private bool OnV3Frame(bool isBinary, ReadOnlySpan<byte> frame)
    {
        if (isBinary)
        {
            if (!EnginePayloadV3.TryReadBinaryFrame(frame, out var binaryType, out var bytes))
            {
                return false;
            }
            OnPacket(binaryType, isBinary: true, bytes);
            return true;
        }
        return EnginePayloadV3.TryReadTextFrame(frame, this, static (self, type, binary, data) =>
        {
            self.OnPacket(type, binary, data);
            return true;
        });
    }

    /// <summary>
    /// A packet as a v3 WebSocket message: binary with its type byte (shared by every v3 recipient), or
    /// <c>b4</c> + base64 text for a client that asked for base64 (engine.io-parser 2.2 <c>encodePacket</c>).
    /// </summary>
    private (ReadOnlyMemory<byte> Frame, WebSocketMessageType Type) V3Frame(EnginePacket packet)
    {
        if (!packet.IsBinary)
        {
            return (packet.Frame, WebSocketMessageType.Text);
        }
        if (SupportsBinary)
        {
            return (packet.V3Frame, WebSocketMessageType.Binary);
        }
        var text = new byte[2 + System.Buffers.Text.Base64.GetMaxEncodedToUtf8Length(packet.Frame.Length)];
        text[0] = (byte)'b';
        text[1] = (byte)'4';
        System.Buffers.Text.Base64.EncodeToUtf8(packet.Frame.Span, text.AsSpan(2), out _, out var written);
        return (text.AsMemory(0, 2 + written), WebSocketMessageType.Text);
    }
}

using System.Buffers.Text;
using System.Diagnostics;
using System.Text;

namespace Parley.Load;

/// <summary>
/// One Socket.IO v5 client over Engine.IO v4, written for load: no reconnection, no buffering, no allocation per
/// received packet beyond the transport's pooled buffer. It answers pings, connects one namespace, emits events
/// (with or without an ack) and hands received events and acks to callbacks. Wire formats:
/// https://github.com/socketio/engine.io-protocol (v4) and https://github.com/socketio/socket.io-protocol (v5).
/// </summary>
internal abstract class SioClient
{
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _lock = new();
    private int _nextAckId;
    private int _closed;

    protected SioClient(LoadTarget target, int index)
    {
        Target = target;
        Index = index;
    }

    public LoadTarget Target { get; }

    /// <summary>The client's number (its login uses it).</summary>
    public int Index { get; }

    /// <summary>An event arrived: the text after the packet type and namespace (<c>["name",…]</c>).</summary>
    public Action<SioClient, ReadOnlySpan<byte>>? EventReceived { get; set; }

    /// <summary>An ack arrived for an emit made at <c>sentAt</c> (Stopwatch ticks).</summary>
    public Action<SioClient, long, ReadOnlySpan<byte>>? AckReceived { get; set; }

    /// <summary>The connection ended (once): the reason, or null when this side closed it.</summary>
    public Action<SioClient, string?>? Closed { get; set; }

    public bool IsOpen => Volatile.Read(ref _closed) == 0 && _connected.Task.IsCompletedSuccessfully;

    /// <summary>Opens a client: Engine.IO handshake on the target's transport, then the namespace's CONNECT.</summary>
    public static async Task<SioClient> ConnectAsync(LoadTarget target, int index, string? cookie, CancellationToken ct)
    {
        SioClient client = target.Polling ? new PollingSioClient(target, index, cookie) : new WebSocketSioClient(target, index, cookie);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(target.HandshakeTimeout);
        try
        {
            await client.OpenAsync(timeout.Token);
            client.SendPacket(target.ConnectPacket);
            await client._connected.Task.WaitAsync(timeout.Token);
            return client;
        }
        catch
        {
            client.Abort();
            throw;
        }
    }

    /// <summary>Emits <c>[eventName, …args]</c>; <paramref name="argsJson"/> is the JSON of the arguments after the name, comma-separated.</summary>
    public void Emit(string eventName, string argsJson, bool ack)
    {
        var sb = new StringBuilder(32 + eventName.Length + argsJson.Length);
        sb.Append("42");
        if (Target.Namespace != "/")
        {
            sb.Append(Target.Namespace).Append(',');
        }
        if (ack)
        {
            int id;
            lock (_lock)
            {
                id = _nextAckId++;
                _pendingAcks ??= new Dictionary<int, long>();
                _pendingAcks[id] = Stopwatch.GetTimestamp();
            }
            sb.Append(id);
        }
        sb.Append("[\"").Append(eventName).Append('"');
        if (argsJson.Length > 0)
        {
            sb.Append(',').Append(argsJson);
        }
        sb.Append(']');
        SendPacket(sb.ToString());
    }

    private Dictionary<int, long>? _pendingAcks;

    /// <summary>Acks waiting for an answer.</summary>
    public int PendingAcks
    {
        get
        {
            lock (_lock)
            {
                return _pendingAcks?.Count ?? 0;
            }
        }
    }

    /// <summary>Closes cleanly: Socket.IO DISCONNECT and Engine.IO CLOSE, then the transport.</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }
        CloseTransport();
    }

    /// <summary>Drops the connection without a word.</summary>
    public void Abort()
    {
        Interlocked.Exchange(ref _closed, 1);
        AbortTransport();
    }

    protected abstract Task OpenAsync(CancellationToken ct);

    /// <summary>
    /// Sends one Engine.IO text packet (type character first), in order with the others: packets queue while a
    /// write is under way and go out together in the next one (one POST on polling, frames back to back on WebSocket).
    /// </summary>
    protected void SendPacket(string packet)
    {
        lock (_lock)
        {
            if (_closed != 0 && _connected.Task.IsCompleted)
            {
                return;
            }
            (_queue ??= []).Add(packet);
            if (_writing)
            {
                return;
            }
            _writing = true;
        }
        _ = DrainAsync();
    }

    private List<string>? _queue;
    private bool _writing;

    private async Task DrainAsync()
    {
        while (true)
        {
            List<string> batch;
            lock (_lock)
            {
                if (_queue is null || _queue.Count == 0)
                {
                    _writing = false;
                    return;
                }
                batch = _queue;
                _queue = null;
            }
            try
            {
                await WriteAsync(batch);
            }
#pragma warning disable CA1031 // a failed write ends this client, whatever the cause; the run goes on
            catch (Exception ex)
#pragma warning restore CA1031
            {
                lock (_lock)
                {
                    _queue = null;
                    _writing = false;
                }
                OnTransportClosed("write failed: " + ex.GetType().Name);
                AbortTransport();
                return;
            }
        }
    }

    /// <summary>Writes packets in order.</summary>
    protected abstract Task WriteAsync(List<string> packets);

    protected abstract void CloseTransport();

    protected abstract void AbortTransport();

    /// <summary>The transport ended; reason null when this side closed it.</summary>
    protected void OnTransportClosed(string? reason)
    {
        var wasOpen = Interlocked.Exchange(ref _closed, 1) == 0;
        _connected.TrySetException(new LoadException(reason ?? "closed during handshake"));
        if (wasOpen || reason is not null)
        {
            Closed?.Invoke(this, wasOpen ? reason : null);
        }
    }

    /// <summary>Handles one Engine.IO packet received by the transport (text; binary packets are ignored).</summary>
    protected void OnEnginePacket(ReadOnlySpan<byte> packet)
    {
        if (packet.IsEmpty)
        {
            return;
        }
        switch (packet[0])
        {
            case (byte)'2':
                SendPacket("3");
                break;
            case (byte)'4':
                OnSocketPacket(packet[1..]);
                break;
            case (byte)'1':
                OnTransportClosed("server close");
                AbortTransport();
                break;
            default:
                // open (handled by the transport), noop, upgrade: nothing to do.
                break;
        }
    }

    private void OnSocketPacket(ReadOnlySpan<byte> p)
    {
        if (p.IsEmpty)
        {
            return;
        }
        var type = p[0];
        p = p[1..];
        // A namespace other than "/" comes first, up to a comma.
        if (!p.IsEmpty && p[0] == (byte)'/')
        {
            var comma = p.IndexOf((byte)',');
            p = comma < 0 ? [] : p[(comma + 1)..];
        }
        switch (type)
        {
            case (byte)'0':
                _connected.TrySetResult();
                break;
            case (byte)'4':
                _connected.TrySetException(new LoadException("connect_error: " + Encoding.UTF8.GetString(p)));
                break;
            case (byte)'1':
                OnTransportClosed("io server disconnect");
                AbortTransport();
                break;
            case (byte)'2':
                EventReceived?.Invoke(this, SkipAckId(p, out _));
                break;
            case (byte)'3':
                var data = SkipAckId(p, out var id);
                long sentAt = 0;
                lock (_lock)
                {
                    if (_pendingAcks is null || !_pendingAcks.Remove(id, out sentAt))
                    {
                        return;
                    }
                }
                AckReceived?.Invoke(this, sentAt, data);
                break;
            default:
                break;
        }
    }

    private static ReadOnlySpan<byte> SkipAckId(ReadOnlySpan<byte> p, out int id)
    {
        var digits = 0;
        while (digits < p.Length && p[digits] is >= (byte)'0' and <= (byte)'9')
        {
            digits++;
        }
        id = digits > 0 && Utf8Parser.TryParse(p[..digits], out int value, out _) ? value : -1;
        return p[digits..];
    }
}

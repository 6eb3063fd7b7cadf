using System.Collections.Concurrent;
using System.Text.Json;
using Parley.Adapters;
using Parley.Protocol.SocketIO;
using Parley.Serialization;

namespace Parley;

// Sending: emits, acknowledgements both ways.
public sealed partial class ParleySocket
{
    /// <summary>
    /// Acks the server waits for, created by the first emit with an ack: most sockets never emit one, and an empty
    /// ConcurrentDictionary costs about 600 bytes per connection (issue 9's profile).
    /// </summary>
    private ConcurrentDictionary<long, Action<EventArgument[]?>>? _acks;

    /// <summary>Sends an event to this client. Completes once it is queued for the transport.</summary>
    public Task EmitAsync(string eventName, params object?[] args) => new SocketEmitter(this).EmitAsync(eventName, args);

    /// <summary>
    /// Sends an event and waits for the client's acknowledgement; returns its arguments. Fails with
    /// <see cref="TimeoutException"/> after <paramref name="timeout"/> (none by default) and with
    /// <see cref="ParleyDisconnectedException"/> if the socket disconnects first.
    /// </summary>
    public Task<EventArgument[]> EmitWithAckAsync(string eventName, object?[] args, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        new SocketEmitter(this, timeout).EmitWithAckAsync(eventName, args, cancellationToken);

    /// <summary>Sends an event and returns the first argument of the client's acknowledgement.</summary>
    public async Task<T?> EmitWithAckAsync<T>(string eventName, object?[] args, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var result = await EmitWithAckAsync(eventName, args, timeout, cancellationToken);
        return result.Length == 0 ? default : result[0].Get<T>(WireOptions);
    }

    /// <summary>An emitter whose acknowledgements time out after <paramref name="timeout"/> (<c>socket.timeout(ms)</c>).</summary>
    public SocketEmitter Timeout(TimeSpan timeout) => new(this, timeout);

    /// <summary>An emitter whose events are dropped if the transport is busy (<c>socket.volatile</c>).</summary>
    public SocketEmitter Volatile => new(this, isVolatile: true);

    /// <summary>An emitter that sets the compress flag (<c>socket.compress(bool)</c>).</summary>
    public SocketEmitter Compress(bool compress) => new(this, compress: compress);

    internal Task Emit(string eventName, ReadOnlySpan<object?> args, bool isVolatile, bool compress, long? ackId)
    {
        var payload = SocketPayload.Create(eventName, args, WireOptions);
        if (ackId is null && Namespace.Server.Options.ConnectionStateRecovery is not null)
        {
            // socket.ts emit: with recovery on, through the adapter to the socket's own room, so that the packet
            // gets an offset and is kept for this client if it is away (an emit with an ack is never kept).
            var packet = new BroadcastPacket(Namespace.Name, payload);
            return Namespace.Adapter.BroadcastAsync(packet, new BroadcastOptions(RoomSet.Empty.Add(Id), null, EmitFlags(isVolatile, compress)));
        }
        SendFrames(payload.Encode(SocketPacketType.Event, Namespace.Name, ackId, compress), isVolatile);
        return Task.CompletedTask;
    }

    private static readonly BroadcastFlags[] s_emitFlags =
    [
        BroadcastFlags.Default with { Compress = false },
        BroadcastFlags.Default,
        BroadcastFlags.Default with { Volatile = true, Compress = false },
        BroadcastFlags.Default with { Volatile = true },
    ];

    private static BroadcastFlags EmitFlags(bool isVolatile, bool compress) => s_emitFlags[(isVolatile ? 2 : 0) + (compress ? 1 : 0)];

    internal void SendAck(long id, object?[] args)
    {
        if (!Connected)
        {
            return;
        }
        var payload = SocketPayload.Create(null, args, WireOptions);
        SendFrames(payload.Encode(SocketPacketType.Ack, Namespace.Name, id));
    }

    internal void RegisterAck(long id, Action<EventArgument[]?> callback) => LazyInitializer.EnsureInitialized(ref _acks)[id] = callback;

    internal bool CancelAck(long id) => _acks?.TryRemove(id, out _) ?? false;

    /// <summary>
    /// Drops the pending acks registered with <paramref name="callback"/> (a broadcast with acks that timed out or
    /// was cancelled: its ack id is the adapter's, the callback is the caller's).
    /// </summary>
    internal void CancelAcks(Action<EventArgument[]?> callback)
    {
        if (_acks is not { IsEmpty: false } acks)
        {
            return;
        }
        foreach (var pending in acks)
        {
            if (ReferenceEquals(pending.Value, callback))
            {
                acks.TryRemove(pending);
            }
        }
    }

    /// <summary>Acks this socket still waits for.</summary>
    internal int PendingAckCount => _acks?.Count ?? 0;

    private void OnAck(SocketPacket packet)
    {
        if (packet.AckId is not { } id || _acks is not { } acks || !acks.TryRemove(id, out var callback))
        {
            SocketLog.UnknownAck(_logger, Id, packet.AckId ?? -1);
            return;
        }
        var arguments = packet.Data is { ValueKind: JsonValueKind.Array } data ? new EventArgument[data.GetArrayLength()] : [];
        if (arguments.Length > 0)
        {
            var i = 0;
            foreach (var element in packet.Data!.Value.EnumerateArray())
            {
                arguments[i++] = new EventArgument(element, packet.Attachments);
            }
        }
        try
        {
            callback(arguments);
        }
        catch (Exception ex)
        {
            SocketLog.HandlerFailed(_logger, Id, "ack", ex);
        }
    }

    private void FailPendingAcks()
    {
        if (_acks is not { } acks)
        {
            return;
        }
        foreach (var id in acks.Keys)
        {
            if (acks.TryRemove(id, out var callback))
            {
                try
                {
                    callback(null);
                }
                catch (Exception ex)
                {
                    SocketLog.HandlerFailed(_logger, Id, "ack", ex);
                }
            }
        }
    }
}

/// <summary>Emits to one socket with modifiers: ack timeout, volatile, compress.</summary>
public readonly struct SocketEmitter
{
    private readonly ParleySocket _socket;
    private readonly TimeSpan? _timeout;
    private readonly bool _volatile;
    private readonly bool _compress;

    internal SocketEmitter(ParleySocket socket, TimeSpan? timeout = null, bool isVolatile = false, bool compress = true)
    {
        _socket = socket;
        _timeout = timeout;
        _volatile = isVolatile;
        _compress = compress;
    }

    /// <summary>The same emitter with an ack timeout.</summary>
    public SocketEmitter Timeout(TimeSpan timeout) => new(_socket, timeout, _volatile, _compress);

    /// <summary>The same emitter, volatile.</summary>
    public SocketEmitter Volatile => new(_socket, _timeout, isVolatile: true, _compress);

    /// <summary>The same emitter with the compress flag.</summary>
    public SocketEmitter Compress(bool compress) => new(_socket, _timeout, _volatile, compress);

    /// <summary>Sends an event; completes once it is queued.</summary>
    public Task EmitAsync(string eventName, params object?[] args)
    {
        ArgumentNullException.ThrowIfNull(eventName);
        // With recovery on, an emit to a socket that dropped is kept for it, as in socket.io: if the client comes
        // back in time, its recovered socket (same id) gets it.
        if (_socket.Connected || _socket.Pid is not null)
        {
            return _socket.Emit(eventName, args, _volatile, _compress, ackId: null);
        }
        return Task.CompletedTask;
    }

    /// <summary>Sends an event and waits for the client's acknowledgement.</summary>
    public async Task<EventArgument[]> EmitWithAckAsync(string eventName, object?[] args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(eventName);
        if (!_socket.Connected)
        {
            throw new ParleyDisconnectedException();
        }
        var id = _socket.Namespace.NextAckId();
        var tcs = new TaskCompletionSource<EventArgument[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        _socket.RegisterAck(id, result =>
        {
            if (result is null)
            {
                tcs.TrySetException(new ParleyDisconnectedException());
            }
            else
            {
                tcs.TrySetResult(result);
            }
        });
        _ = _socket.Emit(eventName, args, _volatile, _compress, id); // with an ack id: sent at once, never through the adapter
        try
        {
            var task = tcs.Task;
            if (_timeout is { } timeout)
            {
                // socket.io: "operation has timed out" (socket.ts registerAckCallback); the pending ack is dropped.
                task = task.WaitAsync(timeout, cancellationToken);
            }
            else if (cancellationToken.CanBeCanceled)
            {
                task = task.WaitAsync(cancellationToken);
            }
            return await task;
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            if (_socket.CancelAck(id) && ex is TimeoutException)
            {
                _socket.Namespace.Server.Metrics.AcksTimedOut(1);
            }
            throw;
        }
    }

    /// <summary>Sends an event and returns the first argument of the acknowledgement.</summary>
    public async Task<T?> EmitWithAckAsync<T>(string eventName, object?[] args, CancellationToken cancellationToken = default)
    {
        var result = await EmitWithAckAsync(eventName, args, cancellationToken);
        return result.Length == 0 ? default : result[0].Get<T>(_socket.WireOptions);
    }
}

/// <summary>The socket disconnected before its acknowledgement arrived.</summary>
public sealed class ParleyDisconnectedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ParleyDisconnectedException() : base("socket has been disconnected")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ParleyDisconnectedException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and inner exception.</summary>
    public ParleyDisconnectedException(string message, Exception innerException) : base(message, innerException)
    {
    }
}

using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Parley.Protocol.SocketIO;

namespace Parley;

// Receiving: handlers by event name, catch-all handlers, per-packet middleware.
public sealed partial class ParleySocket
{
    // Copy on write, so dispatch reads without a lock. Named handlers sit in a flat array searched linearly: a socket
    // listens to a handful of events, and a dictionary per connection costs its buckets and entries for the
    // connection's whole life.
    private KeyValuePair<string, Func<SocketEvent, Task>[]>[] _handlers = [];
    private Func<SocketEvent, Task>[] _anyHandlers = [];
    private Func<SocketEvent, Func<Task>, Task>[] _middlewares = [];

    /// <summary>Handles <paramref name="eventName"/> with access to every argument and the ack.</summary>
    public ParleySocket On(string eventName, Func<SocketEvent, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(eventName);
        ArgumentNullException.ThrowIfNull(handler);
        ImmutableInterlocked.Update(ref _handlers, static (current, added) =>
        {
            var i = IndexOf(current, added.eventName);
            if (i < 0)
            {
                return [.. current, new(added.eventName, [added.handler])];
            }
            var copy = current.ToArray();
            copy[i] = new(added.eventName, [.. current[i].Value, added.handler]);
            return copy;
        }, (eventName, handler));
        return this;
    }

    /// <summary>Handles <paramref name="eventName"/> synchronously.</summary>
    public ParleySocket On(string eventName, Action<SocketEvent> handler) =>
        On(eventName, e =>
        {
            handler(e);
            return Task.CompletedTask;
        });

    /// <summary>Handles <paramref name="eventName"/> with its first argument.</summary>
    public ParleySocket On<T>(string eventName, Func<T?, Task> handler) => On(eventName, e => handler(e.Get<T>(0)));

    /// <summary>Handles <paramref name="eventName"/> with its first argument, synchronously.</summary>
    public ParleySocket On<T>(string eventName, Action<T?> handler) =>
        On(eventName, e =>
        {
            handler(e.Get<T>(0));
            return Task.CompletedTask;
        });

    /// <summary>Handles <paramref name="eventName"/> with its first argument and the client's ack.</summary>
    public ParleySocket On<T>(string eventName, Func<T?, AckCallback, Task> handler) => On(eventName, e => handler(e.Get<T>(0), e.Ack));

    /// <summary>Handles <paramref name="eventName"/> with two arguments.</summary>
    public ParleySocket On<T1, T2>(string eventName, Func<T1?, T2?, Task> handler) => On(eventName, e => handler(e.Get<T1>(0), e.Get<T2>(1)));

    /// <summary>Handles <paramref name="eventName"/> with two arguments and the ack.</summary>
    public ParleySocket On<T1, T2>(string eventName, Func<T1?, T2?, AckCallback, Task> handler) =>
        On(eventName, e => handler(e.Get<T1>(0), e.Get<T2>(1), e.Ack));

    /// <summary>Handles <paramref name="eventName"/> with a source-generated argument type.</summary>
    public ParleySocket On<T>(string eventName, JsonTypeInfo<T> typeInfo, Func<T?, Task> handler) =>
        On(eventName, e => handler(e.Get(0, typeInfo)));

    /// <summary>Handles <paramref name="eventName"/> with a source-generated argument type and the ack.</summary>
    public ParleySocket On<T>(string eventName, JsonTypeInfo<T> typeInfo, Func<T?, AckCallback, Task> handler) =>
        On(eventName, e => handler(e.Get(0, typeInfo), e.Ack));

    /// <summary>Removes every handler of <paramref name="eventName"/>.</summary>
    public ParleySocket Off(string eventName)
    {
        ImmutableInterlocked.Update(ref _handlers, static (current, name) =>
            IndexOf(current, name) is var i and >= 0 ? [.. current.AsSpan(0, i), .. current.AsSpan(i + 1)] : current, eventName);
        return this;
    }

    /// <summary>Handles every event, before the named handlers (socket.io <c>onAny</c>).</summary>
    public ParleySocket OnAny(Func<SocketEvent, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ImmutableInterlocked.Update(ref _anyHandlers, static (current, added) => [.. current, added], handler);
        return this;
    }

    /// <summary>
    /// Adds a per-packet middleware (socket.io <c>socket.use</c>): it sees each event first and calls
    /// <c>next</c> to let it through; throwing drops the event and raises <see cref="Error"/>.
    /// </summary>
    public ParleySocket Use(Func<SocketEvent, Func<Task>, Task> middleware)
    {
        ArgumentNullException.ThrowIfNull(middleware);
        ImmutableInterlocked.Update(ref _middlewares, static (current, added) => [.. current, added], middleware);
        return this;
    }

    /// <summary>Raised when a packet middleware refuses an event (socket.io's <c>error</c> event on the socket).</summary>
    public event Action<ParleySocket, Exception>? Error;

    /// <summary>Handles a packet for this socket (the client has decoded and routed it).</summary>
    internal void OnPacket(SocketPacket packet)
    {
        switch (packet.Type)
        {
            case SocketPacketType.Event:
            case SocketPacketType.BinaryEvent:
                OnEvent(packet);
                break;
            case SocketPacketType.Ack:
            case SocketPacketType.BinaryAck:
                OnAck(packet);
                break;
            case SocketPacketType.Disconnect:
                OnClose(DisconnectReasons.ClientNamespaceDisconnect);
                break;
            default:
                break;
        }
    }

    private void OnEvent(SocketPacket packet)
    {
        if (packet.Data is not { ValueKind: JsonValueKind.Array } data || data.GetArrayLength() == 0)
        {
            return; // "2" with no payload passes the parser but names no event
        }
        var count = data.GetArrayLength();
        var arguments = new EventArgument[count - 1];
        var i = -1;
        string? name = null;
        foreach (var element in data.EnumerateArray())
        {
            if (i < 0)
            {
                name = element.ValueKind == JsonValueKind.String ? element.GetString() : element.GetRawText();
            }
            else
            {
                arguments[i] = new EventArgument(element, packet.Attachments);
            }
            i++;
        }
        var e = new SocketEvent(this, WireOptions, name!, arguments, packet.AckId);
        var middlewares = _middlewares;
        if (middlewares.Length == 0)
        {
            _ = DispatchAsync(e);
            return;
        }
        _ = RunMiddlewaresAsync(e, middlewares, 0);
    }

    private async Task RunMiddlewaresAsync(SocketEvent e, Func<SocketEvent, Func<Task>, Task>[] middlewares, int index)
    {
        try
        {
            if (index == middlewares.Length)
            {
                await DispatchAsync(e);
                return;
            }
            await middlewares[index](e, () => RunMiddlewaresAsync(e, middlewares, index + 1));
        }
        catch (Exception ex)
        {
            // A refusal repeats as often as the client sends: one line a minute per event name.
            if (Namespace.Server.HandlerFaults.ShouldLog("\0use:" + e.Name, out _))
            {
                SocketLog.PacketMiddlewareRefused(_logger, Id, Shorten(e.Name), Shorten(ex.Message));
            }
            var error = Error;
            try
            {
                error?.Invoke(this, ex);
            }
            catch (Exception inner)
            {
                SocketLog.HandlerFailed(_logger, Id, "error", inner);
            }
        }
    }

    /// <summary>
    /// Runs the catch-all handlers, then the named ones. Each handler runs synchronously up to its first await,
    /// so handlers start in the order the packets arrived; failures are logged, never thrown into the transport.
    /// </summary>
    private Task DispatchAsync(SocketEvent e)
    {
        List<Task>? pending = null;
        foreach (var handler in _anyHandlers)
        {
            Start(handler, e, ref pending);
        }
        var handlers = _handlers;
        if (IndexOf(handlers, e.Name) is var i and >= 0)
        {
            foreach (var handler in handlers[i].Value)
            {
                Start(handler, e, ref pending);
            }
        }
        return pending is null ? Task.CompletedTask : Task.WhenAll(pending);
    }

    private static int IndexOf(KeyValuePair<string, Func<SocketEvent, Task>[]>[] handlers, string eventName)
    {
        for (var i = 0; i < handlers.Length; i++)
        {
            if (string.Equals(handlers[i].Key, eventName, StringComparison.Ordinal))
            {
                return i;
            }
        }
        return -1;
    }

    private void Start(Func<SocketEvent, Task> handler, SocketEvent e, ref List<Task>? pending)
    {
        Task task;
        try
        {
            task = handler(e);
        }
        catch (Exception ex)
        {
            OnHandlerFailed(e.Name, ex);
            return;
        }
        if (task.IsCompletedSuccessfully)
        {
            return;
        }
        (pending ??= []).Add(ObserveAsync(task, e.Name));
    }

    private async Task ObserveAsync(Task task, string eventName)
    {
        try
        {
            await task;
        }
        catch (Exception ex)
        {
            OnHandlerFailed(eventName, ex);
        }
    }

    /// <summary>
    /// An argument the client made unreadable is the client's fault: counted against its connection, which is
    /// closed after <see cref="ParleyOptions.MaxClientFaults"/>. Anything else is the application's bug: logged
    /// with its stack, at most once a minute per event name, since any client can trigger it at will.
    /// </summary>
    private void OnHandlerFailed(string eventName, Exception ex)
    {
        if (ex is InvalidEventArgumentException or JsonException)
        {
            _client.OnClientFault("invalid_argument", $"'{Shorten(eventName)}': {Shorten(ex.Message)}");
            return;
        }
        if (Namespace.Server.HandlerFaults.ShouldLog(eventName, out var count))
        {
            SocketLog.HandlerFailedThrottled(_logger, Id, Shorten(eventName), count, ex);
        }
    }

    /// <summary>Client-chosen text in a log line is cut short: the line's size must not be the client's choice.</summary>
    internal static string Shorten(string text) => text.Length <= 100 ? text : string.Concat(text.AsSpan(0, 100), "…");
}

using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Parley;

/// <summary>Answers a client's acknowledgement callback; only the first call counts (socket.io socket.ts <c>ack</c>).</summary>
public delegate Task AckCallback(params object?[] args);

/// <summary>An event received from a client: its name, arguments and, when the client asked for one, the ack.</summary>
public sealed class SocketEvent
{
    private readonly long? _ackId;
    private int _acked;

    private readonly JsonSerializerOptions _options;

    internal SocketEvent(ParleySocket? socket, JsonSerializerOptions options, string name, EventArgument[] arguments, long? ackId)
    {
        Socket = socket;
        _options = options;
        Name = name;
        Arguments = arguments;
        _ackId = ackId;
    }

    /// <summary>
    /// The socket that sent it; null for an event another node sent with <c>ServerSideEmitAsync</c> (received with
    /// <see cref="Namespace.On"/>), which no socket sent.
    /// </summary>
    public ParleySocket? Socket { get; }

    /// <summary>The event name.</summary>
    public string Name { get; }

    /// <summary>The arguments after the event name, as received (binary as placeholders with their bytes).</summary>
    public IReadOnlyList<EventArgument> Arguments { get; }

    /// <summary>Whether the client waits for an acknowledgement.</summary>
    public bool HasAck => _ackId is not null;

    /// <summary>Argument <paramref name="index"/> deserialized with the server's serializer options (byte[] for binary).</summary>
    public T? Get<T>(int index) =>
        index < Arguments.Count ? Arguments[index].Get<T>(_options) : default;

    /// <summary>
    /// Argument <paramref name="index"/> deserialized with a source-generated type (binary placeholders resolve to
    /// byte arrays, as with <see cref="Get{T}(int)"/>).
    /// </summary>
    public T? Get<T>(int index, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return index < Arguments.Count ? Arguments[index].Get(typeInfo) : default;
    }

    /// <summary>
    /// Answers the client's ack with <paramref name="args"/>. Does nothing when the client asked for none or it was
    /// answered already.
    /// </summary>
    public Task AckAsync(params object?[] args)
    {
        if (_ackId is not { } id || Interlocked.Exchange(ref _acked, 1) == 1)
        {
            return Task.CompletedTask;
        }
        if (ServerAck is { } serverAck)
        {
            serverAck(args);
            return Task.CompletedTask;
        }
        // Only server-side events (Socket null) carry a ServerAck, answered above.
        Socket!.SendAck(id, args);
        return Task.CompletedTask;
    }

    internal Action<object?[]>? ServerAck { get; set; }

    /// <summary>The ack as a delegate (for typed handlers).</summary>
    public AckCallback Ack => AckAsync;

    /// <summary>All arguments as objects to re-emit them unchanged.</summary>
    public object?[] ArgumentsForEmit()
    {
        var result = new object?[Arguments.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = Arguments[i];
        }
        return result;
    }
}

using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;
using Parley.Adapters;
using Parley.Protocol.EngineIO;
using Parley.Protocol.SocketIO;
using Parley.Serialization;

namespace Parley;

/// <summary>
/// A namespace (socket.io's <c>Namespace</c>): its sockets, connection middleware and handlers, its adapter, and
/// the broadcast shortcuts (<c>io.of("/chat").to("room").emit(…)</c>).
/// </summary>
public class Namespace
{
    private readonly Lock _lock = new();
    private Func<ParleySocket, Func<Task>, Task>[] _middlewares = [];
    private Func<ParleySocket, Task>[] _connectionHandlers = [];
    private Dictionary<string, Func<SocketEvent, Task>[]> _serverHandlers = new(StringComparer.Ordinal);
    private long _ackIds;

    internal Namespace(ParleyServer server, string name, ParentNamespace? parent = null)
        : this(server, name, parent, server.CreateAdapter)
    {
    }

    private protected Namespace(ParleyServer server, string name, ParentNamespace? parent, Func<Namespace, ParleyAdapter> createAdapter)
    {
        Server = server;
        Name = name;
        Parent = parent;
        Adapter = createAdapter(this);
    }

    /// <summary>The namespace's name, <c>/</c> for the main one.</summary>
    public string Name { get; }

    /// <summary>The server.</summary>
    public ParleyServer Server { get; }

    /// <summary>The adapter (rooms and cluster communication).</summary>
    public ParleyAdapter Adapter { get; }

    /// <summary>The dynamic namespace this one was created from, if any.</summary>
    public ParentNamespace? Parent { get; }

    internal ConcurrentDictionary<string, ParleySocket> SocketsById { get; } = new(StringComparer.Ordinal);

    /// <summary>This node's connected sockets by id.</summary>
    public IReadOnlyDictionary<string, ParleySocket> Sockets => SocketsById;

    internal long NextAckId() => Interlocked.Increment(ref _ackIds) - 1;

    /// <summary>Drops the pending acks a broadcast registered with <paramref name="callback"/> on this node's sockets.</summary>
    internal void CancelAcks(Action<EventArgument[]?> callback)
    {
        foreach (var socket in SocketsById.Values)
        {
            socket.CancelAcks(callback);
        }
    }

    /// <summary>
    /// Adds a connection middleware (socket.io <c>nsp.use</c>): it runs before the socket connects and calls
    /// <c>next</c> to let it in; throwing (a <see cref="ParleyConnectionRefusedException"/> carries data) sends
    /// <c>connect_error</c> to the client.
    /// </summary>
    public Namespace Use(Func<ParleySocket, Func<Task>, Task> middleware)
    {
        ArgumentNullException.ThrowIfNull(middleware);
        lock (_lock)
        {
            _middlewares = [.. _middlewares, middleware];
        }
        return this;
    }

    /// <summary>Runs <paramref name="handler"/> for each socket that connects (socket.io <c>connection</c>).</summary>
    public Namespace OnConnection(Func<ParleySocket, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_lock)
        {
            _connectionHandlers = [.. _connectionHandlers, handler];
        }
        return this;
    }

    /// <summary>Runs <paramref name="handler"/> for each socket that connects.</summary>
    public Namespace OnConnection(Action<ParleySocket> handler) =>
        OnConnection(s =>
        {
            handler(s);
            return Task.CompletedTask;
        });

    /// <summary>Handles an event sent by another node with <c>ServerSideEmitAsync</c>.</summary>
    public Namespace On(string eventName, Func<SocketEvent, Task> handler)
    {
        lock (_lock)
        {
            var copy = new Dictionary<string, Func<SocketEvent, Task>[]>(_serverHandlers, StringComparer.Ordinal);
            copy[eventName] = copy.TryGetValue(eventName, out var existing) ? [.. existing, handler] : [handler];
            _serverHandlers = copy;
        }
        return this;
    }

    // ---- broadcast shortcuts ----

    /// <summary>A broadcast to a room.</summary>
    public BroadcastOperator To(string room) => new BroadcastOperator(this).To(room);

    /// <summary>A broadcast to rooms.</summary>
    public BroadcastOperator To(IEnumerable<string> rooms) => new BroadcastOperator(this).To(rooms);

    /// <summary>Same as <see cref="To(string)"/>.</summary>
    public BroadcastOperator In(string room) => To(room);

    /// <summary>A broadcast that leaves a room out.</summary>
    public BroadcastOperator Except(string room) => new BroadcastOperator(this).Except(room);

    /// <summary>A broadcast to this node only.</summary>
    public BroadcastOperator Local => new BroadcastOperator(this).Local;

    /// <summary>A volatile broadcast.</summary>
    public BroadcastOperator Volatile => new BroadcastOperator(this).Volatile;

    /// <summary>A broadcast with the compress flag.</summary>
    public BroadcastOperator Compress(bool compress) => new BroadcastOperator(this).Compress(compress);

    /// <summary>A broadcast whose acknowledgements time out.</summary>
    public BroadcastOperator Timeout(TimeSpan timeout) => new BroadcastOperator(this).Timeout(timeout);

    /// <summary>Emits to every socket of the namespace (of every child namespace, for a dynamic one).</summary>
    public Task EmitAsync(string eventName, params object?[] args) => new BroadcastOperator(this).EmitAsync(eventName, args);

    /// <summary>Every socket of the namespace, on every node.</summary>
    public Task<IReadOnlyList<RemoteSocket>> FetchSocketsAsync() => new BroadcastOperator(this).FetchSocketsAsync();

    /// <summary>Makes every socket join rooms.</summary>
    public Task SocketsJoinAsync(params string[] rooms) => new BroadcastOperator(this).SocketsJoinAsync(rooms);

    /// <summary>Makes every socket leave rooms.</summary>
    public Task SocketsLeaveAsync(params string[] rooms) => new BroadcastOperator(this).SocketsLeaveAsync(rooms);

    /// <summary>Disconnects every socket.</summary>
    public Task DisconnectSocketsAsync(bool close = false) => new BroadcastOperator(this).DisconnectSocketsAsync(close);

    /// <summary>Sends an event to the other nodes (received with <see cref="On"/> there).</summary>
    public Task ServerSideEmitAsync(string eventName, params object?[] args)
    {
        ValidateServerEvent(eventName);
        return Adapter.ServerSideEmitAsync(SocketPayload.Create(eventName, args, Server.WireOptions));
    }

    /// <summary>Sends an event to the other nodes and collects their acknowledgements (one per node).</summary>
    public Task<IReadOnlyList<JsonElement>> ServerSideEmitWithAckAsync(string eventName, object?[] args, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateServerEvent(eventName);
        return Adapter.ServerSideEmitWithAckAsync(SocketPayload.Create(eventName, args, Server.WireOptions), timeout, cancellationToken);
    }

    private static void ValidateServerEvent(string eventName)
    {
        ArgumentNullException.ThrowIfNull(eventName);
        if (eventName is "connection" or "connect" or "new_namespace")
        {
            throw new ArgumentException($"\"{eventName}\" is a reserved event name.", nameof(eventName));
        }
    }

    // Delivers an event from another node to the On handlers; ack (when the sender waits) receives the handler's
    // acknowledgement. Adapters reach it through ParleyAdapter.OnServerSideEmit.
    internal void OnServerSideEmit(string eventName, EventArgument[] args, Action<object?[]>? ack)
    {
        if (!_serverHandlers.TryGetValue(eventName, out var handlers))
        {
            return;
        }
        foreach (var handler in handlers)
        {
            var e = new SocketEvent(null, Server.WireOptions, eventName, args, ack is null ? null : 0);
            _ = RunServerHandlerAsync(handler, e, ack);
        }
    }

    private async Task RunServerHandlerAsync(Func<SocketEvent, Task> handler, SocketEvent e, Action<object?[]>? ack)
    {
        try
        {
            e.ServerAck = ack;
            await handler(e);
        }
        catch (Exception ex)
        {
            SocketLog.ServerHandlerFailed(Server.Logger, Name, e.Name, ex);
        }
    }

    // ---- connecting sockets ----

    /// <summary>
    /// Creates a socket for the client and runs the middlewares; returns the socket to connect, or null when a
    /// middleware refused it (the client has been told) or never called next.
    /// </summary>
    internal async Task<ParleySocket?> AuthorizeAsync(SocketClient client, JsonElement? auth)
    {
        var handshake = new SocketHandshake(client.Connection.Handshake, auth);
        var (restored, offset, capture) = await RestoreSessionAsync(client, auth);
        var socket = restored is null
            ? new ParleySocket(this, client, client.NewSocketId(Name), handshake)
            : new ParleySocket(this, client, handshake, restored, offset!) { Capture = capture };
        if (restored is not null && Server.Options.ConnectionStateRecovery!.SkipMiddlewares)
        {
            return socket; // namespace.ts _add: a recovered socket skips the middlewares (skipMiddlewares)
        }
        var middlewares = Parent is null ? _middlewares : [.. Parent.Middlewares, .. _middlewares];
        try
        {
            var passed = await RunMiddlewaresAsync(socket, middlewares, 0);
            if (!passed)
            {
                EndRestore(socket);
                return null; // a middleware did not call next: the client waits, as with socket.io, until connectTimeout
            }
        }
        catch (Exception ex)
        {
            EndRestore(socket);
            SocketLog.MiddlewareRefused(Server.Logger, client.Connection.Id, Name, ex.Message);
            client.SendConnectError(Name, ex.Message, RefusalData(ex, client.Connection.Id));
            Server.Metrics.ConnectRefused("middleware");
            return null;
        }
        return socket;
    }

    private void EndRestore(ParleySocket socket)
    {
        if (socket.Capture is { } capture)
        {
            Adapter.EndRestore(capture);
        }
    }

    /// <summary>
    /// namespace.ts _createSocket: with recovery on and a CONNECT whose auth carries the client's private session
    /// id and last offset (socket.io-client adds them by itself), the adapter's session, or null for a fresh socket.
    /// The adapter's capture (if it keeps one) starts before the session is read, so that what this node delivers
    /// from then on reaches the socket even if the read did not see it (<see cref="ParleyAdapter"/> <c>AttachRecovered</c>).
    /// </summary>
    private async Task<(RestoredSession? Session, string? Offset, RestoreCapture? Capture)> RestoreSessionAsync(SocketClient client, JsonElement? auth)
    {
        if (Server.Options.ConnectionStateRecovery is null || auth is not { ValueKind: JsonValueKind.Object } data ||
            !data.TryGetProperty("pid"u8, out var pid) || pid.ValueKind != JsonValueKind.String ||
            !data.TryGetProperty("offset"u8, out var offset) || offset.ValueKind != JsonValueKind.String)
        {
            return (null, null, null);
        }
        var offsetText = offset.GetString()!;
        var capture = Adapter.BeginRestore();
        RestoredSession? restored = null;
        try
        {
            restored = await Adapter.RestoreSessionAsync(pid.GetString()!, offsetText);
            return (restored, offsetText, capture);
        }
        catch (Exception ex)
        {
            SocketLog.RestoreSessionFailed(Server.Logger, client.Connection.Id, Name, ex);
            Server.Metrics.RecoveryAttempt("error");
            return (null, null, null);
        }
        finally
        {
            if (restored is null && capture is not null)
            {
                Adapter.EndRestore(capture);
            }
        }
    }

    /// <summary>
    /// The <c>data</c> of a refusal as JSON. Data that cannot be serialized is logged and left out: the client
    /// still gets the refusal and its message.
    /// </summary>
    private JsonElement? RefusalData(Exception ex, string sid)
    {
        if (ex is not ParleyConnectionRefusedException refused)
        {
            return null;
        }
        try
        {
            return ParleyConnectionRefusedException.ToJson(refused.Data, Server.WireOptions);
        }
        catch (Exception dataException)
        {
            SocketLog.RefusalDataFailed(Server.Logger, sid, Name, dataException);
            return null;
        }
    }

    /// <summary>Makes a socket that passed the middlewares a member of the namespace and of its own room.</summary>
    internal void Add(ParleySocket socket)
    {
        SocketsById[socket.Id] = socket;
        Server.Metrics.SocketConnected(Name);
        socket.OnConnected();
    }

    private static async Task<bool> RunMiddlewaresAsync(ParleySocket socket, Func<ParleySocket, Func<Task>, Task>[] middlewares, int index)
    {
        if (index == middlewares.Length)
        {
            return true;
        }
        var passed = false;
        await middlewares[index](socket, async () => passed = await RunMiddlewaresAsync(socket, middlewares, index + 1));
        return passed;
    }

    /// <summary>
    /// <c>40[/nsp,]{"sid":"…"}</c>, with <c>"pid":"…"</c> under connection state recovery (socket.ts _onconnect).
    /// Both ids are ASCII from <see cref="EngineIO.EngineServer.GenerateId"/>, or came back from a session this
    /// server kept.
    /// </summary>
    internal EnginePacket ConnectFrame(string socketId, string? pid = null)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(80 + Name.Length);
        buffer.Write("4"u8);
        SocketPacketWriter.WriteHeader(buffer, SocketPacketType.Connect, Name, null, 0);
        buffer.Write("{\"sid\":\""u8);
        WriteAscii(buffer, socketId);
        if (pid is not null)
        {
            buffer.Write("\",\"pid\":\""u8);
            WriteAscii(buffer, pid);
        }
        buffer.Write("\"}"u8);
        return EnginePacket.FromTextFrame(buffer.WrittenMemory, compress: false);
    }

    private static void WriteAscii(System.Buffers.ArrayBufferWriter<byte> buffer, string value)
    {
        System.Text.Encoding.ASCII.GetBytes(value, buffer.GetSpan(value.Length));
        buffer.Advance(value.Length);
    }

    /// <summary>Runs the connection handlers for a socket that just connected.</summary>
    internal void OnSocketConnected(ParleySocket socket)
    {
        var handlers = Parent is null ? _connectionHandlers : [.. Parent.ConnectionHandlers, .. _connectionHandlers];
        foreach (var handler in handlers)
        {
            Task task;
            try
            {
                task = handler(socket);
            }
            catch (Exception ex)
            {
                SocketLog.HandlerFailed(Server.Logger, socket.Id, "connection", ex);
                continue;
            }
            if (!task.IsCompletedSuccessfully)
            {
                _ = ObserveAsync(task, socket.Id);
            }
        }
    }

    private async Task ObserveAsync(Task task, string socketId)
    {
        try
        {
            await task;
        }
        catch (Exception ex)
        {
            SocketLog.HandlerFailed(Server.Logger, socketId, "connection", ex);
        }
    }

    internal void Remove(ParleySocket socket)
    {
        if (SocketsById.TryRemove(new KeyValuePair<string, ParleySocket>(socket.Id, socket)))
        {
            Server.Metrics.SocketDisconnected(Name);
        }
        if (Parent is not null && SocketsById.IsEmpty && Server.Options.CleanupEmptyChildNamespaces)
        {
            Parent.RemoveChild(this);
        }
    }

    internal Func<ParleySocket, Func<Task>, Task>[] Middlewares => _middlewares;

    internal Func<ParleySocket, Task>[] ConnectionHandlers => _connectionHandlers;
}

/// <summary>
/// A dynamic namespace (socket.io's <c>ParentNamespace</c>): matches names by a regex or a predicate and creates
/// a child namespace for each; its middlewares and handlers apply to every child, and its broadcasts reach them all.
/// </summary>
public sealed class ParentNamespace : Namespace
{
    private readonly Func<string, JsonElement?, ValueTask<bool>> _matcher;
    private readonly ConcurrentDictionary<string, Namespace> _children = new(StringComparer.Ordinal);

    internal ParentNamespace(ParleyServer server, string displayName, Func<string, JsonElement?, ValueTask<bool>> matcher)
        // A parent has no sockets of its own: its broadcasts go to the children (BroadcastOperator), whose adapters
        // reach the cluster. It needs no cluster adapter, and a Redis one would subscribe channels for a name no
        // client can connect to.
        : base(server, displayName, parent: null, static nsp => new InMemoryAdapter(nsp)) => _matcher = matcher;

    /// <summary>The child namespaces created so far.</summary>
    public IReadOnlyCollection<Namespace> Children => [.. _children.Values];

    internal ValueTask<bool> MatchesAsync(string name, JsonElement? auth) => _matcher(name, auth);

    internal Namespace CreateChild(string name) => _children.GetOrAdd(name, n => Server.RegisterChild(n, this));

    internal void RemoveChild(Namespace child)
    {
        _children.TryRemove(new KeyValuePair<string, Namespace>(child.Name, child));
        Server.UnregisterChild(child);
    }
}

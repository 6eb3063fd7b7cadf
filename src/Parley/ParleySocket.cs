using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Parley.Adapters;
using Parley.Protocol.EngineIO;
using Parley.Protocol.SocketIO;

namespace Parley;

/// <summary>
/// A client's connection to one namespace (socket.io's <c>Socket</c>): receives events, emits, joins rooms.
/// Split by concern: this file holds identity, rooms and life cycle; <c>ParleySocket.Events.cs</c> receiving;
/// <c>ParleySocket.Emit.cs</c> sending and acknowledgements.
/// </summary>
public sealed partial class ParleySocket
{
    private readonly SocketClient _client;
    private readonly ILogger _logger;
    private ImmutableArray<Func<SocketHandshake, SocketHandshake>> _redactions = [];
    private ConcurrentDictionary<object, object?>? _items;
    private int _connected;

    internal ParleySocket(Namespace @namespace, SocketClient client, string id, SocketHandshake handshake)
    {
        Namespace = @namespace;
        _client = client;
        _logger = @namespace.Server.Logger;
        Id = id;
        Handshake = handshake;
        if (@namespace.Server.Options.ConnectionStateRecovery is not null)
        {
            // socket.ts constructor: the private session id, from a CSPRNG like the socket id. Only this client
            // learns it (CONNECT ack); whoever presents it gets this socket's id, rooms and data back.
            Pid = EngineIO.EngineServer.GenerateId();
        }
    }

    /// <summary>A socket that takes over a recovered session: its id, private session id and data.</summary>
    internal ParleySocket(Namespace @namespace, SocketClient client, SocketHandshake handshake, RestoredSession restored, string offset)
        : this(@namespace, client, restored.Session.Sid, handshake)
    {
        Pid = restored.Session.Pid;
        Restored = restored;
        RestoredOffset = offset;
        Recovered = true;
        foreach (var (key, value) in restored.Session.Data)
        {
            Data[key] = value;
        }
    }

    /// <summary>The private session id under connection state recovery (socket.io's <c>pid</c>), else null.</summary>
    internal string? Pid { get; }

    /// <summary>The session this socket recovered, until it has joined its rooms and sent the missed packets.</summary>
    internal RestoredSession? Restored { get; private set; }

    /// <summary>The offset the client came back with, when this socket recovered a session.</summary>
    internal string? RestoredOffset { get; }

    /// <summary>
    /// Whether this socket recovered the state of a connection that dropped (socket.io's <c>socket.recovered</c>):
    /// it has the same <see cref="Id"/>, rooms and <see cref="Data"/>, and got the packets it missed before any new one.
    /// </summary>
    public bool Recovered { get; private init; }

    /// <summary>The socket id: 20 characters from a CSPRNG, also the name of the socket's own room.</summary>
    public string Id { get; }

    /// <summary>The namespace the socket belongs to.</summary>
    public Namespace Namespace { get; }

    /// <summary>What the client sent when it connected.</summary>
    public SocketHandshake Handshake { get; }

    /// <summary>
    /// The handshake as <c>FetchSocketsAsync</c> reports this socket, on this node and, through the adapter, to the
    /// others: <see cref="Handshake"/> with what the registered <see cref="IHandshakeRedactor"/>s and
    /// <see cref="RedactHandshake"/> took out. Computed each time it is read, not kept: most sockets are never
    /// fetched, and a kept copy of the headers would cost every connection memory for its whole life.
    /// </summary>
    public SocketHandshake SharedHandshake
    {
        get
        {
            var shared = RedactForSharing(Handshake);
            foreach (var redact in _redactions)
            {
                shared = redact(shared) ?? throw new InvalidOperationException("A handshake redaction returned null.");
            }
            return shared;
        }
    }

    /// <summary>
    /// Takes more out of <see cref="SharedHandshake"/>. An add-on that reads a credential from the handshake in some
    /// namespaces (a token in <c>auth</c>) calls it from its connection middleware so that the credential never
    /// leaves this process: a remote <c>fetchSockets</c> reply carries the handshake's headers and auth over the
    /// cluster's transport. Redactions compose, in the order they were added, after the
    /// <see cref="IHandshakeRedactor"/>s; they run each time <see cref="SharedHandshake"/> is read (one that returns
    /// null makes that read throw), so they should be cheap and free of side effects. <see cref="Handshake"/>, which
    /// local code reads, stays as the client sent it.
    /// </summary>
    public void RedactHandshake(Func<SocketHandshake, SocketHandshake> redact)
    {
        ArgumentNullException.ThrowIfNull(redact);
        ImmutableInterlocked.Update(ref _redactions, static (list, added) => list.Add(added), redact);
    }

    private SocketHandshake RedactForSharing(SocketHandshake handshake)
    {
        foreach (var redactor in Namespace.Server.HandshakeRedactors)
        {
            handshake = redactor.Redact(handshake);
        }
        return handshake;
    }

    /// <summary>The ASP.NET Core user of the opening request (authentication ran before Parley).</summary>
    public ClaimsPrincipal User => Handshake.User;

    /// <summary>
    /// Application data attached to the socket (socket.io's <c>socket.data</c>); serialized as JSON for
    /// <c>FetchSocketsAsync</c> on other nodes.
    /// </summary>
    public SocketData Data { get; } = new();

    /// <summary>State of add-ons (sessions…), never sent anywhere.</summary>
    /// <remarks>
    /// Made on first use and sized for the one or two entries a socket holds: a default
    /// <see cref="ConcurrentDictionary{TKey, TValue}"/> has 31 buckets and a lock per core, hundreds of bytes per
    /// connection before anything is stored.
    /// </remarks>
    public ConcurrentDictionary<object, object?> Items =>
        _items ?? Interlocked.CompareExchange(ref _items, new ConcurrentDictionary<object, object?>(concurrencyLevel: 1, capacity: 2), null) ?? _items;

    /// <summary>Whether the socket is connected.</summary>
    public bool Connected => System.Threading.Volatile.Read(ref _connected) == 1;

    /// <summary>The Engine.IO connection id (shared by the client's sockets of every namespace).</summary>
    public string ConnectionId => _client.Connection.Id;

    /// <summary>The transport in use.</summary>
    public EngineIO.EngineTransport Transport => _client.Connection.Transport;

    /// <summary>The rooms the socket is in, its own room included.</summary>
    public IReadOnlySet<string> Rooms => Namespace.Adapter.SocketRooms(Id);

    /// <summary>Raised before the socket leaves its rooms on disconnect (socket.io <c>disconnecting</c>).</summary>
    public event Action<ParleySocket, string>? Disconnecting;

    /// <summary>Raised once the socket is disconnected, with socket.io's reason (<c>disconnect</c>).</summary>
    public event Action<ParleySocket, string>? Disconnected;

    /// <summary>Joins a room.</summary>
    public void Join(string room)
    {
        ArgumentNullException.ThrowIfNull(room);
        Namespace.Adapter.AddAll(Id, [room]);
    }

    /// <summary>Joins rooms.</summary>
    public void Join(IEnumerable<string> rooms) => Namespace.Adapter.AddAll(Id, rooms);

    /// <summary>Leaves a room.</summary>
    public void Leave(string room) => Namespace.Adapter.Del(Id, room);

    /// <summary>A broadcast to <paramref name="room"/> that leaves this socket out (<c>socket.to(room)</c>).</summary>
    public BroadcastOperator To(string room) => Broadcast.To(room);

    /// <summary>Same as <see cref="To"/>.</summary>
    public BroadcastOperator In(string room) => Broadcast.To(room);

    /// <summary>A broadcast that leaves out <paramref name="room"/> and this socket.</summary>
    public BroadcastOperator Except(string room) => Broadcast.Except(room);

    /// <summary>A broadcast to everyone in the namespace but this socket (<c>socket.broadcast</c>).</summary>
    public BroadcastOperator Broadcast => new BroadcastOperator(Namespace).Except(Id);

    /// <summary>
    /// Disconnects the socket from its namespace (the client gets <c>io server disconnect</c>); with
    /// <paramref name="close"/>, closes the whole underlying connection.
    /// </summary>
    public void Disconnect(bool close = false)
    {
        if (!Connected)
        {
            return;
        }
        if (close)
        {
            _client.DisconnectAll();
            return;
        }
        _client.Send(DisconnectFrame());
        OnClose(DisconnectReasons.ServerNamespaceDisconnect);
    }

    /// <summary>Async form of <see cref="Disconnect"/>.</summary>
    public Task DisconnectAsync(bool close = false)
    {
        Disconnect(close);
        return Task.CompletedTask;
    }

    internal EnginePacket DisconnectFrame()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(16 + Namespace.Name.Length);
        buffer.Write("4"u8);
        SocketPacketWriter.WriteHeader(buffer, SocketPacketType.Disconnect, Namespace.Name, null, 0);
        return EnginePacket.FromTextFrame(buffer.WrittenMemory, compress: false);
    }

    internal void OnConnected()
    {
        System.Threading.Volatile.Write(ref _connected, 1);
        Namespace.Adapter.AddAll(Id, Restored is { } restored ? [Id, .. restored.Session.Rooms] : [Id]);
    }

    /// <summary>Forgets the restored session once it is applied (its missed packets are no longer needed).</summary>
    internal void ClearRestored() => Restored = null;

    /// <summary>
    /// What a cluster adapter buffers for this socket while its session is restored (<see cref="ParleyAdapter"/>
    /// <c>BeginRestore</c>), until it is attached; null otherwise.
    /// </summary>
    internal RestoreCapture? Capture { get; set; }

    /// <summary>
    /// For a socket a cluster adapter recovered: the offset up to which its replay covered the log (the last missed
    /// packet's, or the client's own). A live packet at or before it is one the replay already sent. Null otherwise.
    /// </summary>
    internal string? ReplayedUpTo { get; set; }

    /// <summary>Queues replayed packets, in order.</summary>
    internal void SendReplayed(IReadOnlyList<BroadcastPacket> packets)
    {
        foreach (var packet in packets)
        {
            _client.Send(packet.GetFrames(compress: true));
        }
    }

    /// <summary>Ends the socket: disconnecting handlers, leave rooms, fail pending acks, disconnected handlers.</summary>
    internal void OnClose(string reason)
    {
        if (Interlocked.Exchange(ref _connected, 0) == 0)
        {
            return;
        }
        Invoke(Disconnecting, reason);
        if (Pid is not null && IsRecoverable(reason))
        {
            PersistSession();
        }
        Namespace.Adapter.DelAll(Id);
        Namespace.Remove(this);
        _client.Remove(this);
        FailPendingAcks();
        SocketLog.Disconnected(_logger, Id, reason);
        Invoke(Disconnected, reason);
    }

    /// <summary>
    /// Whether a disconnection leaves a session to recover (socket.ts RECOVERABLE_DISCONNECT_REASONS): the transport
    /// failed or the server closed it, not a disconnection the client or the application asked for.
    /// </summary>
    private static bool IsRecoverable(string reason) => reason is EngineIO.EngineCloseReasons.TransportError
        or EngineIO.EngineCloseReasons.TransportClose or EngineIO.EngineCloseReasons.ForcedClose
        or EngineIO.EngineCloseReasons.PingTimeout or DisconnectReasons.ServerShuttingDown or DisconnectReasons.ForcedServerClose;

    private void PersistSession()
    {
        var session = new PersistedSession
        {
            Sid = Id,
            Pid = Pid!,
            Rooms = [.. Rooms],
            Data = new Dictionary<string, object?>(Data, StringComparer.Ordinal),
            DisconnectedAt = Namespace.Server.Time.GetUtcNow(),
        };
        Task task;
        try
        {
            task = Namespace.Adapter.PersistSessionAsync(session);
        }
        catch (Exception ex)
        {
            task = Task.FromException(ex);
        }
        if (!task.IsCompletedSuccessfully)
        {
            _ = ObservePersistAsync(task);
        }
    }

    private async Task ObservePersistAsync(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception ex)
        {
            SocketLog.PersistSessionFailed(_logger, Id, Namespace.Name, ex);
        }
    }

    private void Invoke(Action<ParleySocket, string>? handlers, string reason)
    {
        if (handlers is null)
        {
            return;
        }
        foreach (var handler in handlers.GetInvocationList())
        {
            try
            {
                ((Action<ParleySocket, string>)handler)(this, reason);
            }
            catch (Exception ex)
            {
                SocketLog.HandlerFailed(_logger, Id, "disconnect", ex);
            }
        }
    }

    /// <summary>Writes frames to the client; volatile ones are dropped when the transport is busy.</summary>
    internal void SendFrames(EnginePacket[] frames, bool isVolatile = false)
    {
        if (isVolatile && !_client.Connection.IsWritable)
        {
            Namespace.Server.Metrics.VolatileDropped();
            return;
        }
        _client.Send(frames);
    }

    internal JsonSerializerOptions WireOptions => Namespace.Server.WireOptions;
}

/// <summary>socket.io's disconnect reasons.</summary>
public static class DisconnectReasons
{
    /// <summary>The server disconnected the socket.</summary>
    public const string ServerNamespaceDisconnect = "server namespace disconnect";

    /// <summary>The client disconnected the socket.</summary>
    public const string ClientNamespaceDisconnect = "client namespace disconnect";

    /// <summary>The server closed the connection (invalid packet or state).</summary>
    public const string ForcedServerClose = "forced server close";

    /// <summary>The server is stopping.</summary>
    public const string ServerShuttingDown = "server shutting down";
}

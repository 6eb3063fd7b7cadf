using System.Text.Json;
using Parley.Adapters;

namespace Parley;

/// <summary>
/// A socket returned by <c>FetchSocketsAsync</c>, on this node or another one (socket.io's <c>RemoteSocket</c>):
/// its id, handshake, rooms and data, and actions that go through the adapter to wherever it lives.
/// </summary>
public sealed class RemoteSocket
{
    private readonly Namespace _namespace;
    private SocketHandshake? _handshake;

    /// <summary>Creates a remote socket from what a node reported.</summary>
    public RemoteSocket(Namespace @namespace, string id, SocketHandshake handshake, IReadOnlySet<string> rooms, JsonElement data)
        : this(@namespace, id, rooms, data) => _handshake = handshake;

    private RemoteSocket(Namespace @namespace, string id, IReadOnlySet<string> rooms, JsonElement data)
    {
        _namespace = @namespace;
        Id = id;
        Rooms = rooms;
        Data = data;
    }

    /// <summary>The socket id.</summary>
    public string Id { get; }

    /// <summary>
    /// Its handshake, as its node shares it (<see cref="ParleySocket.SharedHandshake"/>). For a socket of this node it
    /// is redacted when first read: most fetches (the chat's presence) read rooms and data only.
    /// </summary>
    public SocketHandshake Handshake =>
        _handshake ?? Interlocked.CompareExchange(ref _handshake, LocalSocket!.SharedHandshake, null) ?? _handshake;

    /// <summary>Its rooms when it was fetched.</summary>
    public IReadOnlySet<string> Rooms { get; }

    /// <summary>Its <c>Data</c>, as JSON.</summary>
    public JsonElement Data { get; }

    /// <summary>The local socket when it lives on this node, else null.</summary>
    public ParleySocket? LocalSocket { get; private init; }

    internal static RemoteSocket FromLocal(ParleySocket socket) =>
        new(socket.Namespace, socket.Id, socket.Rooms, JsonSerializer.SerializeToElement(socket.Data, socket.WireOptions))
        {
            LocalSocket = socket,
        };

    private BroadcastOperator Self => new BroadcastOperator(_namespace).To(Id);

    /// <summary>Emits to this socket.</summary>
    public Task EmitAsync(string eventName, params object?[] args) => Self.EmitAsync(eventName, args);

    /// <summary>Emits to this socket and waits for its acknowledgement (first argument).</summary>
    public async Task<EventArgument?> EmitWithAckAsync(string eventName, object?[] args, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var answers = await Self.Timeout(timeout).EmitWithAckAsync(eventName, args, cancellationToken);
        return answers.Count > 0 ? answers[0] : null;
    }

    /// <summary>Makes it join rooms.</summary>
    public Task JoinAsync(params string[] rooms) => Self.SocketsJoinAsync(rooms);

    /// <summary>Makes it leave rooms.</summary>
    public Task LeaveAsync(params string[] rooms) => Self.SocketsLeaveAsync(rooms);

    /// <summary>Disconnects it.</summary>
    public Task DisconnectAsync(bool close = false) => Self.DisconnectSocketsAsync(close);
}

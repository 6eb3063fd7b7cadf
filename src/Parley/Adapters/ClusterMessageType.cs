namespace Parley.Adapters;

/// <summary>
/// The kinds of <see cref="ClusterMessage"/>, with socket.io-adapter's numbers (<c>MessageType</c> in
/// packages/socket.io-adapter/lib/cluster-adapter.ts): a transport writes the number, so Node and .NET nodes agree.
/// </summary>
public enum ClusterMessageType
{
    /// <summary>A node starts and asks the others to announce themselves (no data).</summary>
    InitialHeartbeat = 1,

    /// <summary>A node is alive (no data).</summary>
    Heartbeat = 2,

    /// <summary><c>{packet:{type:2,data:[event,...args],nsp}, opts, requestId?}</c>: a broadcast, with acks when it has a request id.</summary>
    Broadcast = 3,

    /// <summary><c>{opts, rooms}</c>: the matching sockets join rooms.</summary>
    SocketsJoin = 4,

    /// <summary><c>{opts, rooms}</c>: the matching sockets leave rooms.</summary>
    SocketsLeave = 5,

    /// <summary><c>{opts, close}</c>: the matching sockets are disconnected.</summary>
    DisconnectSockets = 6,

    /// <summary><c>{opts, requestId}</c>: each node reports its matching sockets.</summary>
    FetchSockets = 7,

    /// <summary><c>{requestId, sockets}</c>: the answer to <see cref="FetchSockets"/>.</summary>
    FetchSocketsResponse = 8,

    /// <summary><c>{packet:[event,...args], requestId?}</c>: an event for the other nodes' server-side handlers.</summary>
    ServerSideEmit = 9,

    /// <summary><c>{requestId, packet}</c>: a node's answer to <see cref="ServerSideEmit"/> with a request id.</summary>
    ServerSideEmitResponse = 10,

    /// <summary><c>{requestId, clientCount}</c>: how many clients of a node a broadcast with acks reached.</summary>
    BroadcastClientCount = 11,

    /// <summary><c>{requestId, packet}</c>: one client's answer to a broadcast with acks.</summary>
    BroadcastAck = 12,

    /// <summary>A node's adapter closes (no data).</summary>
    AdapterClose = 13,
}

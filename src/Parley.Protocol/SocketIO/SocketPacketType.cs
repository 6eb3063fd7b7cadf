namespace Parley.Protocol.SocketIO;

/// <summary>
/// Socket.IO v5 packet types, the first character of every packet
/// (socket.io-protocol Readme "Packet types"; socket.io-parser lib/index.ts <c>PacketType</c>).
/// </summary>
public enum SocketPacketType : byte
{
    /// <summary>Namespace connection request (client) or acceptance (server). Payload: optional plain object.</summary>
    Connect = 0,

    /// <summary>Leaves a namespace. No payload.</summary>
    Disconnect = 1,

    /// <summary>An event: a non-empty array whose first element is the event name.</summary>
    Event = 2,

    /// <summary>Acknowledgement of an event carrying an ack id. Payload: array.</summary>
    Ack = 3,

    /// <summary>Namespace connection refused. Payload: string or object.</summary>
    ConnectError = 4,

    /// <summary>An <see cref="Event"/> whose arguments contain binary attachments.</summary>
    BinaryEvent = 5,

    /// <summary>An <see cref="Ack"/> whose arguments contain binary attachments.</summary>
    BinaryAck = 6,
}

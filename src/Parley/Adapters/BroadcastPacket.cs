using Parley.Protocol.EngineIO;
using Parley.Protocol.SocketIO;
using Parley.Serialization;

namespace Parley.Adapters;

/// <summary>
/// An EVENT to broadcast: the namespace and the payload <c>[event, ...args]</c>. Its Engine.IO frames are encoded
/// once, on first use, and shared by every recipient on this node.
/// </summary>
public sealed class BroadcastPacket
{
    private EnginePacket[]? _compressed;
    private EnginePacket[]? _uncompressed;

    /// <summary>Creates a packet.</summary>
    public BroadcastPacket(string @namespace, SocketPayload payload)
    {
        Namespace = @namespace;
        Payload = payload;
    }

    /// <summary>The namespace (<c>/</c> for the main one).</summary>
    public string Namespace { get; }

    /// <summary>The event name and arguments.</summary>
    public SocketPayload Payload { get; }

    /// <summary>The frames to write to each recipient (no ack id).</summary>
    public EnginePacket[] GetFrames(bool compress)
    {
        if (compress)
        {
            return _compressed ??= Payload.Encode(SocketPacketType.Event, Namespace, ackId: null, compress: true);
        }
        return _uncompressed ??= Payload.Encode(SocketPacketType.Event, Namespace, ackId: null, compress: false);
    }
}

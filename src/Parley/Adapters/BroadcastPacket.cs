using System.Buffers;
using System.Text.Json;
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
    private string? _offset;

    /// <summary>Creates a packet.</summary>
    public BroadcastPacket(string @namespace, SocketPayload payload)
    {
        Namespace = @namespace;
        Payload = payload;
    }

    /// <summary>The namespace (<c>/</c> for the main one).</summary>
    public string Namespace { get; }

    /// <summary>The event name and arguments, without the <see cref="Offset"/>.</summary>
    public SocketPayload Payload { get; }

    /// <summary>
    /// The packet's offset under connection state recovery, or null. When set, the frames end the data array with
    /// it (<c>[event, ...args, offset]</c>, socket.io-adapter in-memory-adapter.ts broadcast): the client keeps the
    /// last one it received and sends it back when it reconnects. The in-memory adapter sets a fresh id; a cluster
    /// adapter sets what its publish returned (a stream entry id). Set once, before the frames are first encoded.
    /// </summary>
    public string? Offset
    {
        get => _offset;
        set
        {
            if (_offset is not null || _compressed is not null || _uncompressed is not null)
            {
                throw new InvalidOperationException("The offset of a broadcast packet is set once, before it is encoded.");
            }
            _offset = value;
        }
    }

    /// <summary>The frames to write to each recipient (no ack id).</summary>
    public EnginePacket[] GetFrames(bool compress)
    {
        if (compress)
        {
            return _compressed ??= WirePayload.Encode(SocketPacketType.Event, Namespace, ackId: null, compress: true);
        }
        return _uncompressed ??= WirePayload.Encode(SocketPacketType.Event, Namespace, ackId: null, compress: false);
    }

    /// <summary>The payload as sent: with the offset as one more element of the data array when there is one.</summary>
    private SocketPayload WirePayload => _offset is null ? Payload : WithTrailingString(Payload, _offset);

    private static SocketPayload WithTrailingString(SocketPayload payload, string value)
    {
        var json = payload.Json.Span;
        var buffer = new ArrayBufferWriter<byte>(json.Length + value.Length + 8);
        // The payload is a compact JSON array: drop its "]", add the string, close it again.
        buffer.Write(json[..^1]);
        if (json.Length > 2)
        {
            buffer.Write(","u8);
        }
        using (var writer = new Utf8JsonWriter(buffer, SocketJson.WriterOptions))
        {
            SocketJson.WriteStringValue(writer, value);
        }
        buffer.Write("]"u8);
        return new SocketPayload(buffer.WrittenMemory, payload.Attachments);
    }
}

using System.Text;

namespace Parley.Protocol.EngineIO;

/// <summary>
/// An outbound Engine.IO packet, encoded once: the bytes of its WebSocket frame are kept and reused for every
/// connection and transport it is written to (a broadcast shares one instance between all recipients).
/// </summary>
/// <remarks>
/// Wire format (https://github.com/socketio/engine.io-protocol#packet-encoding): a text packet is the type digit
/// followed by UTF-8 data (<c>4hello</c>); a binary message is the raw bytes in a binary WebSocket frame, and
/// <c>b</c> + base64 inside a polling payload.
/// </remarks>
public sealed class EnginePacket
{
    /// <summary>A ping (<c>2</c>).</summary>
    public static readonly EnginePacket Ping = Control(EnginePacketType.Ping);

    /// <summary>A pong (<c>3</c>).</summary>
    public static readonly EnginePacket Pong = Control(EnginePacketType.Pong);

    /// <summary>A noop (<c>6</c>).</summary>
    public static readonly EnginePacket Noop = Control(EnginePacketType.Noop);

    /// <summary>A close (<c>1</c>).</summary>
    public static readonly EnginePacket Close = Control(EnginePacketType.Close);

    /// <summary>The server's probe answer during an upgrade (<c>3probe</c>).</summary>
    public static readonly EnginePacket ProbePong = Text(EnginePacketType.Pong, "probe"u8);

    private byte[]? _v3Frame;

    private EnginePacket(EnginePacketType type, bool isBinary, ReadOnlyMemory<byte> frame, bool compress)
    {
        Type = type;
        IsBinary = isBinary;
        Frame = frame;
        Compress = compress;
    }

    /// <summary>The packet type.</summary>
    public EnginePacketType Type { get; }

    /// <summary>True for a binary message (raw bytes, no type digit).</summary>
    public bool IsBinary { get; }

    /// <summary>
    /// The WebSocket frame: for text packets the type digit followed by the UTF-8 data, for binary ones the bytes.
    /// </summary>
    public ReadOnlyMemory<byte> Frame { get; }

    /// <summary>The data without the type digit.</summary>
    public ReadOnlyMemory<byte> Data => IsBinary ? Frame : Frame[1..];

    /// <summary>Whether the transport may compress this packet (HTTP compression or per-message deflate).</summary>
    public bool Compress { get; }

    /// <summary>
    /// The WebSocket frame for an Engine.IO v3 client (socket.io-client 2.x): a binary message carries its type as a
    /// first byte (engine.io-parser 2.2 <c>encodeBuffer</c>); a text packet is the same as in v4. Built on first use
    /// and kept, so a broadcast is encoded once per protocol revision, not once per recipient.
    /// </summary>
    public ReadOnlyMemory<byte> V3Frame
    {
        get
        {
            if (!IsBinary)
            {
                return Frame;
            }
            // A race builds the same bytes twice at worst; a reference assignment is atomic.
            if (_v3Frame is null)
            {
                var frame = new byte[Frame.Length + 1];
                frame[0] = (byte)EnginePacketType.Message;
                Frame.Span.CopyTo(frame.AsSpan(1));
                _v3Frame = frame;
            }
            return _v3Frame;
        }
    }

    /// <summary>The number of bytes this packet holds in an outgoing buffer.</summary>
    public int Length => Frame.Length;

    /// <summary>A text packet from its type and UTF-8 data.</summary>
    public static EnginePacket Text(EnginePacketType type, ReadOnlySpan<byte> utf8Data, bool compress = true)
    {
        var frame = new byte[utf8Data.Length + 1];
        frame[0] = (byte)('0' + (byte)type);
        utf8Data.CopyTo(frame.AsSpan(1));
        return new EnginePacket(type, isBinary: false, frame, compress);
    }

    /// <summary>A text packet from its type and data.</summary>
    public static EnginePacket Text(EnginePacketType type, string data, bool compress = true)
    {
        var frame = new byte[Encoding.UTF8.GetByteCount(data) + 1];
        frame[0] = (byte)('0' + (byte)type);
        Encoding.UTF8.GetBytes(data, frame.AsSpan(1));
        return new EnginePacket(type, isBinary: false, frame, compress);
    }

    /// <summary>
    /// A text packet whose frame (type digit included) the caller already encoded, e.g. a Socket.IO packet written
    /// once for a broadcast. The memory must not change afterwards.
    /// </summary>
    public static EnginePacket FromTextFrame(ReadOnlyMemory<byte> frame, bool compress = true)
    {
        if (frame.IsEmpty || frame.Span[0] is < (byte)'0' or > (byte)'6')
        {
            throw new ArgumentException("A text frame starts with a packet type digit.", nameof(frame));
        }
        return new EnginePacket((EnginePacketType)(frame.Span[0] - '0'), isBinary: false, frame, compress);
    }

    /// <summary>A text message (<c>4</c> + data).</summary>
    public static EnginePacket Message(string data, bool compress = true) => Text(EnginePacketType.Message, data, compress);

    /// <summary>A binary message. The memory must not change afterwards.</summary>
    public static EnginePacket Binary(ReadOnlyMemory<byte> data, bool compress = true) =>
        new(EnginePacketType.Message, isBinary: true, data, compress);

    private static EnginePacket Control(EnginePacketType type) => Text(type, ReadOnlySpan<byte>.Empty, compress: false);

    /// <inheritdoc />
    public override string ToString() =>
        IsBinary ? $"binary[{Frame.Length}]" : Encoding.UTF8.GetString(Frame.Span);
}

using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using MessagePack;
using Parley.Protocol.EngineIO;
using Parley.Protocol.SocketIO;

namespace Parley.Serialization;

/// <summary>
/// Socket.IO packets as socket.io-msgpack-parser 3.0.2 writes them: one binary message per packet, the msgpack map
/// <c>{type, data, id, nsp}</c> encoded by notepack.io 2.2 (binary as <c>bin</c>, a browser's ArrayBuffer as ext 0,
/// no BINARY_EVENT/BINARY_ACK types). Parley's Socket.IO layer carries JSON with binary placeholders; this converts
/// at the edge, so adapters, handlers and Redis see the same packets whatever parser a client uses.
/// </summary>
internal static class MessagePackPackets
{
    // Keyed by the first frame of what the default parser produced: a broadcast shares its frames between all its
    // recipients, so its msgpack form is made once, for the first msgpack recipient, and dropped with the frames.
    private static readonly ConditionalWeakTable<EnginePacket, EnginePacket> s_encoded = [];

    private static readonly SocketPacketDecoderOptions s_ownPackets = new() { MaxAttachments = int.MaxValue, MaxJsonDepth = 1024 };

    /// <summary>True when a binary message starts with a msgpack map: how a msgpack client's first packet looks.</summary>
    public static bool StartsWithMap(ReadOnlySpan<byte> message) =>
        !message.IsEmpty && message[0] is (>= 0x80 and <= 0x8f) or 0xde or 0xdf;

    /// <summary>
    /// Decodes one msgpack packet, checked as the parser's <c>checkPacket</c> does (and as the default parser checks
    /// an event's name); null with <paramref name="error"/> set when it is malformed.
    /// </summary>
    public static SocketPacket? Decode(ReadOnlySpan<byte> message, int maxAttachments, int maxDepth, out string? error)
    {
        var attachments = new List<ReadOnlyMemory<byte>>();
        JsonElement root;
        // The message is a pooled buffer's span (EngineMessage); MessagePack-CSharp reads memory, so it is copied
        // once into a rented array. Nothing read keeps a reference to it: strings go to JSON, binaries are copied.
        var rented = ArrayPool<byte>.Shared.Rent(message.Length);
        try
        {
            message.CopyTo(rented);
            // The packet map itself is one level above the data.
            root = MessagePackJson.ToJsonElement(rented.AsMemory(0, message.Length), attachments, maxDepth + 1);
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or JsonException or InvalidOperationException or ArgumentException)
        {
            error = "invalid msgpack: " + ex.Message;
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
        if (attachments.Count > maxAttachments)
        {
            error = "too many binary values";
            return null;
        }
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = "not a packet map";
            return null;
        }
        if (!root.TryGetProperty("type"u8, out var typeElement) || !IsInteger(typeElement, out var typeNumber) || typeNumber is < 0 or > 4)
        {
            error = "invalid packet type";
            return null;
        }
        if (!root.TryGetProperty("nsp"u8, out var nspElement) || nspElement.ValueKind != JsonValueKind.String)
        {
            error = "invalid namespace";
            return null;
        }
        var type = (SocketPacketType)typeNumber;
        JsonElement? data = root.TryGetProperty("data"u8, out var d) ? d : null;
        if (!IsDataValid(type, data))
        {
            error = "invalid payload";
            return null;
        }
        long? id = null;
        if (root.TryGetProperty("id"u8, out var idElement) && idElement.ValueKind != JsonValueKind.Null)
        {
            if (!IsInteger(idElement, out var idNumber) || idNumber < 0)
            {
                error = "invalid packet id";
                return null;
            }
            id = idNumber;
        }
        error = null;
        return new SocketPacket(type, nspElement.GetString(), id, data, attachments.ToArray());
    }

    private static bool IsInteger(JsonElement element, out long value)
    {
        value = 0;
        if (element.ValueKind != JsonValueKind.Number)
        {
            return false;
        }
        if (element.TryGetInt64(out value))
        {
            return true;
        }
        var number = element.GetDouble();
        if (Math.Floor(number) != number || Math.Abs(number) > 9007199254740991)
        {
            return false;
        }
        value = (long)number;
        return true;
    }

    private static bool IsDataValid(SocketPacketType type, JsonElement? data) => type switch
    {
        SocketPacketType.Connect => data is null || data.Value.ValueKind == JsonValueKind.Object,
        SocketPacketType.Disconnect => data is null,
        SocketPacketType.ConnectError => data is { ValueKind: JsonValueKind.String or JsonValueKind.Object },
        SocketPacketType.Event => data is { ValueKind: JsonValueKind.Array } events && events.GetArrayLength() > 0 &&
            events[0].ValueKind is JsonValueKind.String or JsonValueKind.Number,
        _ => data is { ValueKind: JsonValueKind.Array },
    };

    /// <summary>
    /// The msgpack form of a packet the default parser wrote (a text frame and its attachments): made once per
    /// packet and kept as long as the packet is, so a broadcast is encoded once for all its msgpack recipients.
    /// </summary>
    public static EnginePacket Encode(ReadOnlySpan<EnginePacket> frames)
    {
        var head = frames[0];
        if (s_encoded.TryGetValue(head, out var encoded))
        {
            return encoded;
        }
        encoded = Transcode(frames);
        return s_encoded.GetValue(head, _ => encoded);
    }

    internal static EnginePacket Transcode(ReadOnlySpan<EnginePacket> frames)
    {
        var decoder = new SocketPacketDecoder(s_ownPackets);
        var result = decoder.Decode(frames[0].Data.Span, out var packet);
        for (var i = 1; i < frames.Length && result == SocketDecodeResult.AwaitingAttachments; i++)
        {
            result = decoder.AddAttachment(frames[i].Frame, out packet);
        }
        if (result != SocketDecodeResult.Complete)
        {
            throw new InvalidOperationException("Parley wrote a packet it cannot read back: " + decoder.LastError);
        }
        return EnginePacket.Binary(Write(packet!), frames[0].Compress);
    }

    /// <summary>
    /// The map in socket.io's key order, so the bytes are those socket.io writes: socket.ts emit builds type and data,
    /// then id; ack builds id, type and data; the nsp comes last.
    /// </summary>
    internal static byte[] Write(SocketPacket packet)
    {
        var type = packet.Type switch
        {
            SocketPacketType.BinaryEvent => SocketPacketType.Event,
            SocketPacketType.BinaryAck => SocketPacketType.Ack,
            _ => packet.Type,
        };
        var buffer = new ArrayBufferWriter<byte>(128);
        var writer = new MessagePackWriter(buffer);
        writer.WriteMapHeader(2 + (packet.Data is null ? 0 : 1) + (packet.AckId is null ? 0 : 1));
        if (type == SocketPacketType.Ack && packet.AckId is { } ackId)
        {
            // socket.ts ack builds { id, type, data }.
            writer.Write("id");
            writer.Write(ackId);
        }
        writer.Write("type");
        writer.Write((long)type);
        if (packet.Data is { } data)
        {
            writer.Write("data");
            MessagePackJson.WriteMessagePack(ref writer, data, packet.Attachments);
        }
        if (packet.AckId is { } id && type != SocketPacketType.Ack)
        {
            writer.Write("id");
            writer.Write(id);
        }
        writer.Write("nsp");
        writer.Write(packet.Namespace);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}

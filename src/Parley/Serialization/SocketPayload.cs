using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Parley.Protocol.EngineIO;
using Parley.Protocol.SocketIO;

namespace Parley.Serialization;

/// <summary>
/// The data of an EVENT or ACK packet, serialized once: the JSON array (with <c>{"_placeholder":true,"num":N}</c>
/// where binary goes) and the binary attachments. The Redis adapter carries it between nodes as is.
/// </summary>
public sealed class SocketPayload
{
    private static readonly IReadOnlyList<ReadOnlyMemory<byte>> s_none = [];

    /// <summary>Creates a payload from its parts.</summary>
    public SocketPayload(ReadOnlyMemory<byte> json, IReadOnlyList<ReadOnlyMemory<byte>>? attachments)
    {
        Json = json;
        Attachments = attachments ?? s_none;
    }

    /// <summary>The JSON array, UTF-8, compact.</summary>
    public ReadOnlyMemory<byte> Json { get; }

    /// <summary>Binary attachments, in placeholder order.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Attachments { get; }

    /// <summary>
    /// Serializes <c>[eventName, ...args]</c> (or <c>[...args]</c> when <paramref name="eventName"/> is null, for
    /// acks). Byte arrays anywhere become attachments; <see cref="JsonElement"/>s keep their exact text;
    /// <see cref="EventArgument"/>s keep their attachments.
    /// </summary>
    public static SocketPayload Create(string? eventName, ReadOnlySpan<object?> args, JsonSerializerOptions wireOptions)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + (args.Length * 16));
        var previous = AttachmentScope.Writing;
        AttachmentScope.Writing = null;
        try
        {
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = SocketJsonEncoder.Instance }))
            {
                writer.WriteStartArray();
                if (eventName is not null)
                {
                    SocketJson.WriteStringValue(writer, eventName);
                }
                foreach (var arg in args)
                {
                    WriteArgument(writer, arg, wireOptions);
                }
                writer.WriteEndArray();
            }
            return new SocketPayload(buffer.WrittenMemory, AttachmentScope.Writing);
        }
        finally
        {
            AttachmentScope.Writing = previous;
        }
    }

    private static void WriteArgument(Utf8JsonWriter writer, object? arg, JsonSerializerOptions options)
    {
        switch (arg)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string s:
                SocketJson.WriteStringValue(writer, s);
                break;
            case byte[] bytes:
                AttachmentScope.WritePlaceholder(writer, bytes);
                break;
            case ReadOnlyMemory<byte> memory:
                AttachmentScope.WritePlaceholder(writer, memory);
                break;
            case Memory<byte> memory:
                AttachmentScope.WritePlaceholder(writer, memory);
                break;
            case ArraySegment<byte> segment:
                AttachmentScope.WritePlaceholder(writer, segment);
                break;
            case JsonElement element:
                SocketJson.WriteValue(writer, element);
                break;
            case EventArgument argument:
                argument.WriteTo(writer);
                break;
            case JsonNode node:
                node.WriteTo(writer, options);
                break;
            default:
                JsonSerializer.Serialize(writer, arg, arg.GetType(), options);
                break;
        }
    }

    /// <summary>
    /// The Engine.IO packets of an EVENT or ACK with this payload: one text frame (<c>4</c> + the Socket.IO packet)
    /// and one binary frame per attachment. Encoded once, shareable between recipients.
    /// </summary>
    public EnginePacket[] Encode(SocketPacketType type, string nsp, long? ackId, bool compress = true)
    {
        var count = Attachments.Count;
        if (count > 0)
        {
            type = type switch
            {
                SocketPacketType.Event => SocketPacketType.BinaryEvent,
                SocketPacketType.Ack => SocketPacketType.BinaryAck,
                _ => type,
            };
        }
        var buffer = new ArrayBufferWriter<byte>(Json.Length + 24 + nsp.Length);
        buffer.GetSpan(1)[0] = (byte)'4';
        buffer.Advance(1);
        SocketPacketWriter.WriteHeader(buffer, type, nsp, ackId, count);
        buffer.Write(Json.Span);
        var packets = new EnginePacket[1 + count];
        packets[0] = EnginePacket.FromTextFrame(buffer.WrittenMemory, compress);
        for (var i = 0; i < count; i++)
        {
            packets[i + 1] = EnginePacket.Binary(Attachments[i], compress);
        }
        return packets;
    }
}

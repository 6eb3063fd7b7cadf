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

/// <summary>
/// An argument received from a client, kept with the packet's attachments so it can be re-emitted unchanged
/// (placeholders inside it still point at the right bytes).
/// </summary>
public readonly struct EventArgument
{
    private readonly IReadOnlyList<ReadOnlyMemory<byte>> _attachments;

    /// <summary>
    /// An argument from its JSON value (binary as <c>{"_placeholder":true,"num":N}</c>) and the attachments its
    /// placeholders number into: what an adapter builds from another node's message (an ack's answer, a server-side
    /// event's arguments).
    /// </summary>
    public EventArgument(JsonElement element, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        Element = element;
        _attachments = attachments;
    }

    /// <summary>The JSON value as received (binary as placeholders).</summary>
    public JsonElement Element { get; }

    /// <summary>True when this argument is a binary attachment.</summary>
    public bool IsBinary => TryGetBytes(out _);

    /// <summary>The bytes when this argument is a binary attachment.</summary>
    public bool TryGetBytes(out ReadOnlyMemory<byte> bytes)
    {
        bytes = default;
        if (Element.ValueKind != JsonValueKind.Object || !Element.TryGetProperty("_placeholder"u8, out var flag) ||
            flag.ValueKind != JsonValueKind.True || !Element.TryGetProperty("num"u8, out var num) || !num.TryGetInt32(out var index) ||
            index < 0 || index >= (_attachments?.Count ?? 0))
        {
            return false;
        }
        bytes = _attachments![index];
        return true;
    }

    /// <summary>Deserializes the argument (binary placeholders resolve to byte arrays).</summary>
    public T? Get<T>(JsonSerializerOptions options)
    {
        if (typeof(T) == typeof(EventArgument))
        {
            return (T)(object)this;
        }
        AttachmentScope.SetReading(_attachments);
        try
        {
            return Element.Deserialize<T>(options);
        }
        catch (JsonException ex)
        {
            throw NotReadable(typeof(T), ex);
        }
        finally
        {
            AttachmentScope.SetReading(null);
        }
    }

    /// <summary>
    /// Deserializes the argument with a source-generated type; binary placeholders resolve to byte arrays (and
    /// <c>ReadOnlyMemory&lt;byte&gt;</c>) as with <see cref="Get{T}(JsonSerializerOptions)"/>.
    /// </summary>
    public T? Get<T>(JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        if (typeof(T) == typeof(byte[]) && TryGetBytes(out var bytes))
        {
            return (T)(object)bytes.ToArray();
        }
        AttachmentScope.SetReading(_attachments);
        try
        {
            return Element.Deserialize(PlaceholderTypeInfo.For(typeInfo));
        }
        catch (JsonException ex)
        {
            throw NotReadable(typeof(T), ex);
        }
        finally
        {
            AttachmentScope.SetReading(null);
        }
    }

    // What the client sent is its fault, not the handler's: a typed exception lets the server count it against the
    // client (docs/security.md "Client faults"). The deserializer's message names the type and the JSON path only.
    private static InvalidEventArgumentException NotReadable(Type type, JsonException ex) =>
        new($"argument cannot be read as {type.Name}: {ex.Message}", ex);

    internal void WriteTo(Utf8JsonWriter writer)
    {
        if (_attachments is null || _attachments.Count == 0)
        {
            SocketJson.WriteValue(writer, Element);
            return;
        }
        WriteWithAttachments(writer, Element);
    }

    private void WriteWithAttachments(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                if (new EventArgument(element, _attachments).TryGetBytes(out var bytes))
                {
                    AttachmentScope.WritePlaceholder(writer, bytes);
                    return;
                }
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject())
                {
                    writer.WritePropertyName(property.Name);
                    WriteWithAttachments(writer, property.Value);
                }
                writer.WriteEndObject();
                return;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    WriteWithAttachments(writer, item);
                }
                writer.WriteEndArray();
                return;
            default:
                SocketJson.WriteValue(writer, element);
                return;
        }
    }

    /// <inheritdoc />
    public override string ToString() => Element.GetRawText();
}

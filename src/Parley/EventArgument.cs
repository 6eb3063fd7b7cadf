using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Parley.Protocol.SocketIO;
using Parley.Serialization;

namespace Parley;

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
        if (!PlaceholderReader.TryGetIndex(Element, _attachments?.Count ?? 0, out var index))
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

using System.Runtime.CompilerServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Parley.Protocol.SocketIO;

namespace Parley.Serialization;

/// <summary>The encoder of JSON.stringify-like output: only what JSON requires is escaped.</summary>
internal static class SocketJsonEncoder
{
    public static JavaScriptEncoder Instance => JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
}

/// <summary>
/// The binary attachments of the packet being written or read on this thread. Serialization is synchronous, so a
/// thread-static scope carries them to the converters without a closure per message.
/// </summary>
internal static class AttachmentScope
{
    [ThreadStatic]
    private static List<ReadOnlyMemory<byte>>? t_writing;

    [ThreadStatic]
    private static IReadOnlyList<ReadOnlyMemory<byte>>? t_readingAttachments;

    public static List<ReadOnlyMemory<byte>>? Writing
    {
        get => t_writing;
        set => t_writing = value;
    }

    public static void SetReading(IReadOnlyList<ReadOnlyMemory<byte>>? attachments)
    {
        t_readingAttachments = attachments;
    }

    /// <summary>Resolves a placeholder object at the reader's position; consumes it.</summary>
    public static bool TryReadPlaceholder(ref Utf8JsonReader reader, out ReadOnlyMemory<byte> bytes)
    {
        bytes = default;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }
        using var doc = JsonDocument.ParseValue(ref reader);
        var attachments = t_readingAttachments;
        if (attachments is null || !PlaceholderReader.TryGetIndex(doc.RootElement, attachments.Count, out var index))
        {
            throw new JsonException("Expected a binary placeholder.");
        }
        bytes = attachments[index];
        return true;
    }

    /// <summary>Writes a placeholder for <paramref name="bytes"/> and records the attachment.</summary>
    public static void WritePlaceholder(Utf8JsonWriter writer, ReadOnlyMemory<byte> bytes)
    {
        var list = t_writing ??= [];
        SocketPacketWriter.WritePlaceholder(writer, list.Count);
        list.Add(bytes);
    }
}

/// <summary>byte[] travels as a Socket.IO binary attachment (placeholder in the JSON), as Buffers do in socket.io.</summary>
internal sealed class BinaryPlaceholderConverter : JsonConverter<byte[]>
{
    public override byte[]? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetBytesFromBase64();
        }
        return AttachmentScope.TryReadPlaceholder(ref reader, out var bytes) ? bytes.ToArray() : null;
    }

    public override void Write(Utf8JsonWriter writer, byte[] value, JsonSerializerOptions options) =>
        AttachmentScope.WritePlaceholder(writer, value);
}

/// <summary>ReadOnlyMemory&lt;byte&gt; travels as a binary attachment too.</summary>
internal sealed class ReadOnlyMemoryPlaceholderConverter : JsonConverter<ReadOnlyMemory<byte>>
{
    public override ReadOnlyMemory<byte> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetBytesFromBase64();
        }
        return AttachmentScope.TryReadPlaceholder(ref reader, out var bytes) ? bytes : default;
    }

    public override void Write(Utf8JsonWriter writer, ReadOnlyMemory<byte> value, JsonSerializerOptions options) =>
        AttachmentScope.WritePlaceholder(writer, value);
}

/// <summary>
/// A source-generated <see cref="JsonTypeInfo{T}"/> is bound to its context's options, which lack the placeholder
/// converters: a byte[] inside it would expect base64 and fail on <c>{"_placeholder":true,"num":0}</c>. This gives
/// the same type's metadata from a copy of those options with the converters first; the resolver (the generated
/// context) is kept, and generated code consults the options' converters before its own. One copy per options
/// instance, kept as long as that instance lives.
/// </summary>
internal static class PlaceholderTypeInfo
{
    private static readonly ConditionalWeakTable<JsonSerializerOptions, JsonSerializerOptions> s_withPlaceholders = new();

    public static JsonTypeInfo<T> For<T>(JsonTypeInfo<T> typeInfo)
    {
        var options = typeInfo.Options;
        if (options.TypeInfoResolver is null || (options.Converters.Count > 0 && options.Converters[0] is BinaryPlaceholderConverter))
        {
            return typeInfo;
        }
        var withPlaceholders = s_withPlaceholders.GetValue(options, static o =>
        {
            var copy = new JsonSerializerOptions(o);
            copy.Converters.Insert(0, new BinaryPlaceholderConverter());
            copy.Converters.Insert(1, new ReadOnlyMemoryPlaceholderConverter());
            copy.MakeReadOnly();
            return copy;
        });
        return (JsonTypeInfo<T>)withPlaceholders.GetTypeInfo(typeof(T));
    }
}

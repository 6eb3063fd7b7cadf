using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Parley.MessagePack;

/// <summary>
/// Converts between msgpack and the JSON + binary attachments that Parley's Socket.IO layer carries, the same split
/// socket.io-parser makes (<c>lib/binary.ts</c> <c>deconstructPacket</c> / <c>reconstructPacket</c>): a msgpack
/// <c>bin</c> becomes <c>{"_placeholder":true,"num":N}</c> with its bytes appended to the attachments, and back.
/// Map key order is kept both ways, and so is the integer / float distinction: a float64 that happens to be
/// integral is written to JSON as <c>2.0</c>, and a JSON number with a fraction or exponent goes back as float64.
/// </summary>
internal static class MessagePackJson
{
    private static readonly JsonEncodedText Placeholder = JsonEncodedText.Encode("_placeholder");
    private static readonly JsonEncodedText Num = JsonEncodedText.Encode("num");

    /// <summary>Decodes one whole msgpack value (no trailing bytes, like notepack's <c>decode</c>) into JSON.</summary>
    public static JsonElement ToJsonElement(ReadOnlySpan<byte> msgpack, List<byte[]> attachments, int maxDepth = MessagePackReader.DefaultMaxDepth)
    {
        var buffer = new ArrayBufferWriter<byte>(Math.Max(256, msgpack.Length * 2));
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { MaxDepth = maxDepth + 2 }))
        {
            var reader = new MessagePackReader(msgpack, maxDepth);
            WriteJson(ref reader, json, attachments);
            reader.EnsureEnd();
        }
        using var document = JsonDocument.Parse(buffer.WrittenMemory, new JsonDocumentOptions { MaxDepth = maxDepth + 2 });
        return document.RootElement.Clone();
    }

    /// <summary>As <see cref="ToJsonElement(ReadOnlySpan{byte}, List{byte[]}, int)"/> for a Redis payload that may span segments.</summary>
    public static JsonElement ToJsonElement(in ReadOnlySequence<byte> msgpack, List<byte[]> attachments, int maxDepth = MessagePackReader.DefaultMaxDepth)
    {
        if (msgpack.IsSingleSegment)
        {
            return ToJsonElement(msgpack.FirstSpan, attachments, maxDepth);
        }
        var length = checked((int)msgpack.Length);
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            msgpack.CopyTo(rented);
            return ToJsonElement(rented.AsSpan(0, length), attachments, maxDepth);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Writes the next msgpack value as JSON; binaries become placeholders and go to <paramref name="attachments"/>.</summary>
    public static void WriteJson(ref MessagePackReader reader, Utf8JsonWriter writer, List<byte[]> attachments) =>
        WriteJson(ref reader, writer, attachments, 0);

    private static void WriteJson(ref MessagePackReader reader, Utf8JsonWriter writer, List<byte[]> attachments, int depth)
    {
        switch (reader.NextType)
        {
            case MessagePackType.Nil:
            case MessagePackType.Undefined:
                // JSON.stringify writes undefined inside an array as null; undefined map values are dropped below.
                reader.TryReadNil();
                writer.WriteNullValue();
                break;
            case MessagePackType.Boolean:
                writer.WriteBooleanValue(reader.ReadBoolean());
                break;
            case MessagePackType.Integer:
                if (reader.TryReadInteger(out var signed, out var unsigned))
                {
                    writer.WriteNumberValue(signed);
                }
                else
                {
                    writer.WriteNumberValue(unsigned);
                }
                break;
            case MessagePackType.Float:
                WriteFloat(writer, reader.ReadDouble());
                break;
            case MessagePackType.String:
                var utf8 = reader.ReadStringUtf8();
                if (Utf8.IsValid(utf8))
                {
                    writer.WriteStringValue(utf8);
                }
                else
                {
                    // Node's toString('utf8') replaces bad sequences with U+FFFD; Utf8JsonWriter would throw.
                    writer.WriteStringValue(Encoding.UTF8.GetString(utf8));
                }
                break;
            case MessagePackType.Binary:
                WritePlaceholder(writer, reader.ReadBinary(), attachments);
                break;
            case MessagePackType.Timestamp:
                // A JS Date in JSON is its toJSON(): ISO 8601 with milliseconds and Z.
                writer.WriteStringValue(reader.ReadTimestamp().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                break;
            case MessagePackType.Extension:
                // notepack decodes an unknown ext as [type, Buffer].
                var data = reader.ReadExtension(out var type);
                writer.WriteStartArray();
                writer.WriteNumberValue(type);
                WritePlaceholder(writer, data, attachments);
                writer.WriteEndArray();
                break;
            case MessagePackType.Array:
                if (depth >= reader.MaxDepth)
                {
                    ThrowHelper.TooDeep(reader.MaxDepth);
                }
                var count = reader.ReadArrayHeader();
                writer.WriteStartArray();
                for (var i = 0; i < count; i++)
                {
                    WriteJson(ref reader, writer, attachments, depth + 1);
                }
                writer.WriteEndArray();
                break;
            case MessagePackType.Map:
                if (depth >= reader.MaxDepth)
                {
                    ThrowHelper.TooDeep(reader.MaxDepth);
                }
                var pairs = reader.ReadMapHeader();
                writer.WriteStartObject();
                for (var i = 0; i < pairs; i++)
                {
                    var keyStart = reader.Position;
                    reader.Skip(depth + 1);
                    if (reader.NextType == MessagePackType.Undefined)
                    {
                        // notepack decodes d4 00 00 as undefined and JSON.stringify drops such a key.
                        reader.TryReadNil();
                        continue;
                    }
                    var valueReader = reader;
                    reader = reader.Rewind(keyStart);
                    WritePropertyName(ref reader, writer);
                    reader = valueReader;
                    WriteJson(ref reader, writer, attachments, depth + 1);
                }
                writer.WriteEndObject();
                break;
        }
    }

    /// <summary>JS turns any map key into a string (<c>value[key] = ...</c>); we accept the scalar ones.</summary>
    private static void WritePropertyName(ref MessagePackReader reader, Utf8JsonWriter writer)
    {
        switch (reader.NextType)
        {
            case MessagePackType.String:
                var utf8 = reader.ReadStringUtf8();
                if (Utf8.IsValid(utf8))
                {
                    writer.WritePropertyName(utf8);
                }
                else
                {
                    writer.WritePropertyName(Encoding.UTF8.GetString(utf8));
                }
                break;
            case MessagePackType.Integer:
                writer.WritePropertyName(reader.TryReadInteger(out var signed, out var unsigned)
                    ? signed.ToString(CultureInfo.InvariantCulture)
                    : unsigned.ToString(CultureInfo.InvariantCulture));
                break;
            case MessagePackType.Float:
                writer.WritePropertyName(reader.ReadDouble().ToString("R", CultureInfo.InvariantCulture));
                break;
            case MessagePackType.Boolean:
                writer.WritePropertyName(reader.ReadBoolean() ? "true" : "false");
                break;
            case MessagePackType.Nil:
            case MessagePackType.Undefined:
                var isNil = reader.NextType == MessagePackType.Nil;
                reader.TryReadNil();
                writer.WritePropertyName(isNil ? "null" : "undefined");
                break;
            default:
                ThrowHelper.Format($"map key of type {reader.NextType} at offset {reader.Position} is not supported");
                break;
        }
    }

    private static void WritePlaceholder(Utf8JsonWriter writer, ReadOnlySpan<byte> bytes, List<byte[]> attachments)
    {
        writer.WriteStartObject();
        writer.WriteBoolean(Placeholder, true);
        writer.WriteNumber(Num, attachments.Count);
        writer.WriteEndObject();
        attachments.Add(bytes.ToArray());
    }

    /// <summary>
    /// A float keeps a visible fraction or exponent (<c>2.0</c>, <c>1E+300</c>) so the way back knows to write float64.
    /// NaN and ±Infinity have no JSON form and become null, as JSON.stringify does.
    /// </summary>
    private static void WriteFloat(Utf8JsonWriter writer, double value)
    {
        if (!double.IsFinite(value))
        {
            writer.WriteNullValue();
            return;
        }
        Span<byte> text = stackalloc byte[40];
        if (!value.TryFormat(text, out var written, "R", CultureInfo.InvariantCulture))
        {
            writer.WriteNumberValue(value);
            return;
        }
        if (text[..written].IndexOfAny((byte)'.', (byte)'E') < 0)
        {
            text[written++] = (byte)'.';
            text[written++] = (byte)'0';
        }
        writer.WriteRawValue(text[..written], skipInputValidation: true);
    }

    /// <summary>Encodes JSON plus attachments to one msgpack value, exactly as notepack would encode the JS value.</summary>
    public static byte[] FromJson(JsonElement json, IReadOnlyList<byte[]>? attachments = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        var writer = new MessagePackWriter(buffer);
        WriteJson(ref writer, json, attachments);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Writes a JSON value as msgpack; <c>{"_placeholder":true,"num":N}</c> becomes <c>bin</c> of attachment N, and an
    /// out-of-range N fails as socket.io-parser's <c>reconstructPacket</c> does ("illegal attachments").
    /// </summary>
    public static void WriteJson(ref MessagePackWriter writer, JsonElement json, IReadOnlyList<byte[]>? attachments)
    {
        switch (json.ValueKind)
        {
            case JsonValueKind.Object:
                if (TryGetPlaceholder(json, out var num))
                {
                    if (attachments is null || num < 0 || num >= attachments.Count)
                    {
                        ThrowHelper.Format("illegal attachments: placeholder " + num.ToString(CultureInfo.InvariantCulture));
                    }
                    writer.WriteBinary(attachments[(int)num]);
                    return;
                }
                writer.WriteMapHeader(json.GetPropertyCount());
                foreach (var property in json.EnumerateObject())
                {
                    writer.WriteString(property.Name);
                    WriteJson(ref writer, property.Value, attachments);
                }
                break;
            case JsonValueKind.Array:
                writer.WriteArrayHeader(json.GetArrayLength());
                foreach (var item in json.EnumerateArray())
                {
                    WriteJson(ref writer, item, attachments);
                }
                break;
            case JsonValueKind.String:
                writer.WriteString(json.GetString());
                break;
            case JsonValueKind.Number:
                WriteNumber(ref writer, json);
                break;
            case JsonValueKind.True:
                writer.WriteBoolean(true);
                break;
            case JsonValueKind.False:
                writer.WriteBoolean(false);
                break;
            default:
                writer.WriteNil();
                break;
        }
    }

    private static void WriteNumber(ref MessagePackWriter writer, JsonElement json)
    {
        var raw = json.GetRawText();
        if (raw.AsSpan().IndexOfAny('.', 'e', 'E') < 0)
        {
            if (json.TryGetInt64(out var signed))
            {
                writer.WriteInt64(signed);
                return;
            }
            if (json.TryGetUInt64(out var unsigned))
            {
                writer.WriteUInt64(unsigned);
                return;
            }
        }
        // A fraction or an exponent, or an integer beyond 64 bits: a JS double either way.
        writer.WriteDouble(double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture));
    }

    private static bool TryGetPlaceholder(JsonElement json, out double num)
    {
        num = -1;
        if (!json.TryGetProperty("_placeholder", out var flag) || flag.ValueKind != JsonValueKind.True)
        {
            return false;
        }
        if (json.TryGetProperty("num", out var n) && n.ValueKind == JsonValueKind.Number)
        {
            num = n.GetDouble();
            if (Math.Floor(num) != num)
            {
                num = -1;
            }
        }
        return true;
    }
}

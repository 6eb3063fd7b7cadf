using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using MessagePack;
using Parley.Protocol.SocketIO;

namespace Parley.Serialization;

/// <summary>
/// The one bridge between msgpack as notepack.io writes it and the JSON + binary attachments Parley carries: the
/// msgpack Socket.IO parser (socket.io-msgpack-parser 3.0.2, on notepack.io 2.2) and the Redis adapters
/// (@socket.io/redis-adapter 8.x, on notepack.io 3.0.1) both go through it. Bytes are read and written with
/// MessagePack-CSharp's <see cref="T:MessagePack.MessagePackReader"/> and <see cref="T:MessagePack.MessagePackWriter"/>.
/// </summary>
/// <remarks>
/// <para>
/// Binaries follow socket.io-parser's split (<c>lib/binary.ts</c> <c>deconstructPacket</c> /
/// <c>reconstructPacket</c>): a msgpack <c>bin</c> is <c>{"_placeholder":true,"num":N}</c> in the JSON with its bytes
/// at index N of the attachments, and back. Map key order is kept both ways.
/// </para>
/// <para>
/// Writing chooses each form as notepack's <c>lib/encode.js</c> does for the JS value the JSON stands for, so the
/// bytes are notepack's (docs/wire-formats.md §5): the smallest header for every string, bin, array and map, an
/// integral number as the smallest integer and anything else as float64 (<see cref="WriteNumber"/>). JSON integers
/// that fit 64 bits are written exactly, where JS would have rounded them beyond 2^53.
/// </para>
/// <para>
/// Reading is lenient, like notepack's <c>lib/decode.js</c>: float32, any ext type (<c>[type, Buffer]</c>), timestamp
/// ext −1 and notepack's legacy ext 0 forms (<c>d4 00 00</c> undefined, <c>c7/c8/c9 .. 00</c> ArrayBuffer,
/// <c>d7 00</c> date in ms). A float keeps a visible fraction in the JSON (<c>2.0</c>) so handlers can tell it was
/// one. It is safe on hostile input: lengths are checked against the bytes left before anything is sliced
/// (MessagePack-CSharp does this for every header), nesting stops at a depth limit, and every failure is a
/// <see cref="T:MessagePack.MessagePackSerializationException"/>.
/// </para>
/// Spec: https://github.com/msgpack/msgpack/blob/master/spec.md
/// </remarks>
public static class MessagePackJson
{
    /// <summary>The default nesting limit of <see cref="ToJsonElement"/> and <see cref="WriteJson"/>.</summary>
    public const int DefaultMaxDepth = 64;

    // V8 writes NaN as the quiet NaN with the sign bit clear; .NET's double.NaN has it set (ff f8 00 ...).
    private static readonly double s_canonicalNaN = BitConverter.UInt64BitsToDouble(0x7ff8_0000_0000_0000UL);
    private static readonly JsonEncodedText s_placeholder = JsonEncodedText.Encode("_placeholder");
    private static readonly JsonEncodedText s_num = JsonEncodedText.Encode("num");

    // ---- msgpack → JSON ----

    /// <summary>
    /// Decodes one whole msgpack value into JSON, trailing bytes refused as notepack's <c>decode</c> refuses them.
    /// Binaries become placeholders numbered from <paramref name="attachments"/>'s count, their bytes (copied) added
    /// to it.
    /// </summary>
    /// <exception cref="T:MessagePack.MessagePackSerializationException">The input is truncated, forged, too deep or not msgpack.</exception>
    public static JsonElement ToJsonElement(ReadOnlyMemory<byte> msgpack, ICollection<ReadOnlyMemory<byte>> attachments, int maxDepth = DefaultMaxDepth)
    {
        var buffer = new ArrayBufferWriter<byte>(Math.Max(256, msgpack.Length * 2));
        var reader = new MessagePackReader(msgpack);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { MaxDepth = maxDepth + 2 }))
        {
            WriteJson(ref reader, json, attachments, maxDepth);
        }
        if (!reader.End)
        {
            throw new MessagePackSerializationException($"{msgpack.Length - reader.Consumed} trailing bytes after the msgpack value");
        }
        using var document = JsonDocument.Parse(buffer.WrittenMemory, new JsonDocumentOptions { MaxDepth = maxDepth + 2 });
        return document.RootElement.Clone();
    }

    /// <summary>
    /// Reads the next msgpack value and writes it as JSON; binaries become placeholders and go to
    /// <paramref name="attachments"/>. Nesting deeper than <paramref name="maxDepth"/> is refused.
    /// </summary>
    /// <exception cref="T:MessagePack.MessagePackSerializationException">The input is truncated, forged, too deep or not msgpack.</exception>
    public static void WriteJson(ref MessagePackReader reader, Utf8JsonWriter writer, ICollection<ReadOnlyMemory<byte>> attachments, int maxDepth = DefaultMaxDepth)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(attachments);
        try
        {
            WriteValue(ref reader, writer, attachments, 0, maxDepth);
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException or OverflowException)
        {
            // MessagePack-CSharp reports a truncation as EndOfStreamException, and a 32-bit length or count of 2^31
            // or more (read as a negative int) as ArgumentOutOfRangeException; callers see one exception type.
            throw new MessagePackSerializationException($"msgpack input is truncated or forged near offset {reader.Consumed}: {e.Message}", e);
        }
    }

    private static void WriteValue(ref MessagePackReader reader, Utf8JsonWriter writer, ICollection<ReadOnlyMemory<byte>> attachments, int depth, int maxDepth)
    {
        var code = reader.NextCode;
        switch (MessagePackCode.ToMessagePackType(code))
        {
            case MessagePackType.Nil:
                reader.ReadNil();
                writer.WriteNullValue();
                break;
            case MessagePackType.Boolean:
                writer.WriteBooleanValue(reader.ReadBoolean());
                break;
            case MessagePackType.Integer:
                if (code == MessagePackCode.UInt64)
                {
                    writer.WriteNumberValue(reader.ReadUInt64());
                }
                else
                {
                    writer.WriteNumberValue(reader.ReadInt64());
                }
                break;
            case MessagePackType.Float:
                WriteFloat(writer, reader.ReadDouble());
                break;
            case MessagePackType.String:
                WriteString(ref reader, writer, propertyName: false);
                break;
            case MessagePackType.Binary:
                WritePlaceholder(writer, reader.ReadBytes()!.Value, attachments);
                break;
            case MessagePackType.Extension:
                WriteExtension(ref reader, writer, attachments);
                break;
            case MessagePackType.Array:
                CheckDepth(depth, maxDepth);
                var count = CheckedCount(reader.ReadArrayHeader());
                writer.WriteStartArray();
                for (var i = 0; i < count; i++)
                {
                    WriteValue(ref reader, writer, attachments, depth + 1, maxDepth);
                }
                writer.WriteEndArray();
                break;
            case MessagePackType.Map:
                CheckDepth(depth, maxDepth);
                var pairs = CheckedCount(reader.ReadMapHeader());
                writer.WriteStartObject();
                for (var i = 0; i < pairs; i++)
                {
                    // The value is looked at before the key is written: notepack decodes d4 00 00 as undefined, and
                    // JSON.stringify drops such a key. A string key in one span (the usual case) is held as that span;
                    // any other is read again from a copy of the reader.
                    if (MessagePackCode.ToMessagePackType(reader.NextCode) == MessagePackType.String && reader.TryReadStringSpan(out var name))
                    {
                        if (TryReadUndefined(ref reader))
                        {
                            continue;
                        }
                        WriteUtf8(writer, name, propertyName: true);
                    }
                    else
                    {
                        var key = reader;
                        SkipKey(ref reader);
                        if (TryReadUndefined(ref reader))
                        {
                            continue;
                        }
                        WritePropertyName(ref key, writer);
                    }
                    WriteValue(ref reader, writer, attachments, depth + 1, maxDepth);
                }
                writer.WriteEndObject();
                break;
            default:
                throw new MessagePackSerializationException($"msgpack code 0x{code:x2} at offset {reader.Consumed} is never used");
        }
    }

    /// <summary>
    /// An ext value as notepack's <c>decode.js</c> reads it: type 0 is its legacy undefined (fixext1), ArrayBuffer
    /// (ext8/16/32) or date in ms (fixext8); type −1 a timestamp; any other is <c>[type, Buffer]</c>.
    /// </summary>
    private static void WriteExtension(ref MessagePackReader reader, Utf8JsonWriter writer, ICollection<ReadOnlyMemory<byte>> attachments)
    {
        var code = reader.NextCode;
        var offset = reader.Consumed;
        var header = reader.ReadExtensionFormatHeader();
        var data = reader.ReadRaw(header.Length);
        switch (header.TypeCode)
        {
            case 0 when code == MessagePackCode.FixExt1:
                // JSON.stringify writes undefined inside an array as null (undefined map values are dropped above).
                writer.WriteNullValue();
                return;
            case 0 when code is MessagePackCode.Ext8 or MessagePackCode.Ext16 or MessagePackCode.Ext32:
                WritePlaceholder(writer, data, attachments);
                return;
            case 0 when code == MessagePackCode.FixExt8:
            case -1 when code is MessagePackCode.FixExt4 or MessagePackCode.FixExt8 or MessagePackCode.Ext8:
                // A JS Date in JSON is its toJSON(): ISO 8601 with milliseconds and Z.
                writer.WriteStringValue(ReadTimestamp(header.TypeCode, data, offset).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                return;
        }
        writer.WriteStartArray();
        writer.WriteNumberValue(header.TypeCode);
        WritePlaceholder(writer, data, attachments);
        writer.WriteEndArray();
    }

    /// <summary>Timestamp ext −1 (32, 64 and 96-bit forms) or notepack's legacy <c>d7 00</c> (ms since the epoch).</summary>
    private static DateTime ReadTimestamp(sbyte type, in ReadOnlySequence<byte> sequence, long offset)
    {
        if (sequence.Length is 4 or 8 or 12)
        {
            Span<byte> data = stackalloc byte[12];
            data = data[..(int)sequence.Length];
            sequence.CopyTo(data);
            try
            {
                if (type == 0)
                {
                    return DateTime.UnixEpoch.AddMilliseconds(BinaryPrimitives.ReadInt64BigEndian(data));
                }
                switch (data.Length)
                {
                    case 4:
                        return DateTime.UnixEpoch.AddSeconds(BinaryPrimitives.ReadUInt32BigEndian(data));
                    case 8:
                        var v = BinaryPrimitives.ReadUInt64BigEndian(data);
                        return DateTime.UnixEpoch.AddSeconds((long)(v & 0x3_ffff_ffffUL)).AddTicks((long)(v >> 34) / 100);
                    default:
                        var ns = BinaryPrimitives.ReadUInt32BigEndian(data);
                        return DateTime.UnixEpoch.AddSeconds(BinaryPrimitives.ReadInt64BigEndian(data[4..])).AddTicks(ns / 100);
                }
            }
            catch (ArgumentOutOfRangeException e)
            {
                // Outside DateTime's years 1..9999: a well-formed timestamp .NET cannot hold.
                throw new MessagePackSerializationException($"timestamp at offset {offset} is out of DateTime's range", e);
            }
        }
        throw new MessagePackSerializationException($"ext type {type} of {sequence.Length} bytes at offset {offset} is not a timestamp");
    }

    /// <summary>Consumes notepack's legacy undefined (<c>d4 00 00</c>) and returns true, or returns false.</summary>
    private static bool TryReadUndefined(ref MessagePackReader reader)
    {
        if (reader.NextCode != MessagePackCode.FixExt1)
        {
            return false;
        }
        var peek = reader.CreatePeekReader();
        if (peek.ReadExtensionFormatHeader().TypeCode != 0)
        {
            return false;
        }
        peek.ReadRaw(1);
        reader = peek;
        return true;
    }

    /// <summary>JS turns any map key into a string (<c>value[key] = ...</c>); the scalar ones are accepted.</summary>
    private static void SkipKey(ref MessagePackReader reader)
    {
        var type = reader.NextMessagePackType;
        if (type is MessagePackType.Nil or MessagePackType.Boolean or MessagePackType.Integer or MessagePackType.Float or MessagePackType.String)
        {
            reader.Skip();
            return;
        }
        if (type != MessagePackType.Extension || !TryReadUndefined(ref reader))
        {
            throw new MessagePackSerializationException($"map key of type {type} at offset {reader.Consumed} is not supported");
        }
    }

    private static void WritePropertyName(ref MessagePackReader reader, Utf8JsonWriter writer)
    {
        var code = reader.NextCode;
        switch (MessagePackCode.ToMessagePackType(code))
        {
            case MessagePackType.String:
                WriteString(ref reader, writer, propertyName: true);
                break;
            case MessagePackType.Integer:
                writer.WritePropertyName(code == MessagePackCode.UInt64
                    ? reader.ReadUInt64().ToString(CultureInfo.InvariantCulture)
                    : reader.ReadInt64().ToString(CultureInfo.InvariantCulture));
                break;
            case MessagePackType.Float:
                writer.WritePropertyName(reader.ReadDouble().ToString("R", CultureInfo.InvariantCulture));
                break;
            case MessagePackType.Boolean:
                writer.WritePropertyName(reader.ReadBoolean() ? "true" : "false");
                break;
            case MessagePackType.Nil:
                reader.ReadNil();
                writer.WritePropertyName("null");
                break;
            default:
                // SkipKey let only notepack's undefined through.
                writer.WritePropertyName("undefined");
                break;
        }
    }

    private static void WriteString(ref MessagePackReader reader, Utf8JsonWriter writer, bool propertyName) =>
        WriteUtf8(writer, reader.TryReadStringSpan(out var span) ? span : reader.ReadStringSequence()!.Value.ToArray(), propertyName);

    private static void WriteUtf8(Utf8JsonWriter writer, ReadOnlySpan<byte> utf8, bool propertyName)
    {
        if (Utf8.IsValid(utf8))
        {
            if (propertyName)
            {
                writer.WritePropertyName(utf8);
            }
            else
            {
                writer.WriteStringValue(utf8);
            }
            return;
        }
        // Node's toString('utf8') replaces bad sequences with U+FFFD; Utf8JsonWriter would throw.
        var text = Encoding.UTF8.GetString(utf8);
        if (propertyName)
        {
            writer.WritePropertyName(text);
        }
        else
        {
            writer.WriteStringValue(text);
        }
    }

    private static void WritePlaceholder(Utf8JsonWriter writer, in ReadOnlySequence<byte> bytes, ICollection<ReadOnlyMemory<byte>> attachments)
    {
        writer.WriteStartObject();
        writer.WriteBoolean(s_placeholder, true);
        writer.WriteNumber(s_num, attachments.Count);
        writer.WriteEndObject();
        attachments.Add(bytes.ToArray());
    }

    /// <summary>
    /// A float keeps a visible fraction or exponent (<c>2.0</c>, <c>1E+300</c>), so a handler can tell it was one.
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

    private static void CheckDepth(int depth, int maxDepth)
    {
        if (depth >= maxDepth)
        {
            throw new MessagePackSerializationException($"msgpack nesting is deeper than {maxDepth}");
        }
    }

    /// <summary>An array32/map32 count of 2^31 or more comes back negative from MessagePack-CSharp.</summary>
    private static int CheckedCount(int count) =>
        count >= 0 ? count : throw new MessagePackSerializationException($"msgpack count {(uint)count} runs past the end of the input");

    // ---- JSON → msgpack ----

    /// <summary>
    /// Writes a JSON value as notepack writes the JS value it stands for: a placeholder whose <c>num</c> indexes
    /// <paramref name="attachments"/> is that attachment's <c>bin</c> (any other object is a map, as notepack writes an
    /// object that merely looks like one), strings, arrays and maps with their smallest header, numbers by
    /// <see cref="WriteNumber"/> (JSON integers that fit 64 bits exactly).
    /// </summary>
    public static void WriteMessagePack(ref MessagePackWriter writer, JsonElement json, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        ArgumentNullException.ThrowIfNull(attachments);
        switch (json.ValueKind)
        {
            case JsonValueKind.Object:
                if (PlaceholderReader.TryGetIndex(json, attachments.Count, out var num))
                {
                    writer.Write(attachments[num].Span);
                    return;
                }
                writer.WriteMapHeader(json.GetPropertyCount());
                foreach (var property in json.EnumerateObject())
                {
                    writer.Write(property.Name);
                    WriteMessagePack(ref writer, property.Value, attachments);
                }
                break;
            case JsonValueKind.Array:
                writer.WriteArrayHeader(json.GetArrayLength());
                foreach (var item in json.EnumerateArray())
                {
                    WriteMessagePack(ref writer, item, attachments);
                }
                break;
            case JsonValueKind.String:
                writer.Write(json.GetString());
                break;
            case JsonValueKind.Number:
                if (json.TryGetInt64(out var signed))
                {
                    writer.Write(signed);
                }
                else if (json.TryGetUInt64(out var unsigned))
                {
                    writer.Write(unsigned);
                }
                else
                {
                    // A fraction, an exponent or an integer beyond 64 bits: the JS number JSON.parse makes of it.
                    WriteNumber(ref writer, json.TryGetDouble(out var value) ? value : double.Parse(json.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture));
                }
                break;
            case JsonValueKind.True:
                writer.Write(true);
                break;
            case JsonValueKind.False:
                writer.Write(false);
                break;
            default:
                writer.WriteNil();
                break;
        }
    }

    /// <summary>
    /// A JS number as notepack's <c>encode.js</c> writes it. Not integral or not finite
    /// (<c>Math.floor(value) !== value || !isFinite(value)</c>): float64, NaN as V8's <c>7ff8000000000000</c>.
    /// Otherwise the smallest of positive fixint / uint8..64 or negative fixint / int8..64, <c>-0</c> as <c>00</c>;
    /// beyond the 64-bit range notepack still writes uint64 (≥ 2^64) or int64 (&lt; −2^63) of the value modulo 2^64
    /// (its <c>hi</c>/<c>lo</c> words wrap), and so does this, so that both write the same bytes.
    /// </summary>
    public static void WriteNumber(ref MessagePackWriter writer, double value)
    {
        if (!double.IsFinite(value) || Math.Floor(value) != value)
        {
            writer.Write(double.IsNaN(value) ? s_canonicalNaN : value);
        }
        else if (value >= 0)
        {
            if (value < 18446744073709551616.0)
            {
                writer.Write((ulong)value);
            }
            else
            {
                writer.WriteUInt64(Modulo64(value));
            }
        }
        else if (value >= -9223372036854775808.0)
        {
            writer.Write((long)value);
        }
        else
        {
            writer.WriteInt64(unchecked((long)Modulo64(value)));
        }
    }

    /// <summary>An integral double modulo 2^64, exactly (two's complement for negatives).</summary>
    private static ulong Modulo64(double value) => (ulong)(new BigInteger(value) & ulong.MaxValue);
}

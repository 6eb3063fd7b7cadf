using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Parley.Protocol.SocketIO;

/// <summary>
/// Writes JSON byte-for-byte as JavaScript's <c>JSON.stringify</c> (ECMA-262 QuoteJSONString), which is what
/// socket.io-parser's Encoder uses: compact; strings escape only <c>"</c>, <c>\</c>, U+0000–U+001F (as
/// <c>\b \t \n \f \r</c> or <c>\u00xx</c>, lowercase hex) and lone surrogates (<c>\udxxx</c>); everything else,
/// including non-ASCII, <c>&lt;</c>, <c>&gt;</c>, <c>&amp;</c>, <c>'</c>, U+2028 and U+2029, is written raw.
/// Numbers are written with their original text (JSON.stringify would normalise <c>1.0</c> to <c>1</c>; clients
/// already send the normal form, and the conformance suite needs the input echoed).
/// </summary>
internal static class JsonStringify
{
    private static readonly SearchValues<char> s_charsToEscape = SearchValues.Create(CharsToEscape());

    private static ReadOnlySpan<byte> HexDigits => "0123456789abcdef"u8;

    public static void WriteElement(IBufferWriter<byte> output, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                WriteByte(output, (byte)'{');
                var firstProperty = true;
                foreach (var property in element.EnumerateObject())
                {
                    if (!firstProperty)
                    {
                        WriteByte(output, (byte)',');
                    }

                    firstProperty = false;
                    WriteEscapedString(output, JsonMarshal.GetRawUtf8PropertyName(property));
                    WriteByte(output, (byte)':');
                    WriteElement(output, property.Value);
                }

                WriteByte(output, (byte)'}');
                break;
            case JsonValueKind.Array:
                WriteByte(output, (byte)'[');
                var firstItem = true;
                foreach (var item in element.EnumerateArray())
                {
                    if (!firstItem)
                    {
                        WriteByte(output, (byte)',');
                    }

                    firstItem = false;
                    WriteElement(output, item);
                }

                WriteByte(output, (byte)']');
                break;
            case JsonValueKind.String:
                WriteEscapedString(output, RawContent(element));
                break;
            case JsonValueKind.Undefined:
                // A default JsonElement; JSON.stringify(undefined) in an array gives null.
                output.Write("null"u8);
                break;
            default: // Number, True, False, Null: the raw text is already canonical for literals.
                output.Write(JsonMarshal.GetRawUtf8Value(element));
                break;
        }
    }

    /// <summary>Writes a quoted string from the raw (still escaped) UTF-8 content of a JSON string token.</summary>
    public static void WriteEscapedString(IBufferWriter<byte> output, ReadOnlySpan<byte> escaped)
    {
        WriteByte(output, (byte)'"');
        while (true)
        {
            // Raw bytes of a parsed JSON string are never control characters or quotes, so only escapes need work.
            var backslash = escaped.IndexOf((byte)'\\');
            if (backslash < 0)
            {
                output.Write(escaped);
                break;
            }

            output.Write(escaped[..backslash]);
            escaped = escaped[(backslash + 1)..];
            if (escaped.IsEmpty)
            {
                break; // cannot happen for a parsed token
            }

            var kind = escaped[0];
            escaped = escaped[1..];
            switch (kind)
            {
                case (byte)'u' when escaped.Length >= 4 && TryHex(escaped[..4], out var unit):
                    escaped = escaped[4..];
                    if (char.IsHighSurrogate((char)unit)
                        && escaped.Length >= 6 && escaped[0] == (byte)'\\' && escaped[1] == (byte)'u'
                        && TryHex(escaped.Slice(2, 4), out var low) && char.IsLowSurrogate((char)low))
                    {
                        escaped = escaped[6..];
                        WriteRune(output, new Rune((char)unit, (char)low));
                    }
                    else
                    {
                        WriteCodeUnit(output, (char)unit);
                    }

                    break;
                case (byte)'b': WriteCodeUnit(output, '\b'); break;
                case (byte)'f': WriteCodeUnit(output, '\f'); break;
                case (byte)'n': WriteCodeUnit(output, '\n'); break;
                case (byte)'r': WriteCodeUnit(output, '\r'); break;
                case (byte)'t': WriteCodeUnit(output, '\t'); break;
                default: WriteCodeUnit(output, (char)kind); break; // '"', '\\', '/'
            }
        }

        WriteByte(output, (byte)'"');
    }

    /// <summary>Writes a quoted string from UTF-16 text.</summary>
    public static void WriteString(IBufferWriter<byte> output, ReadOnlySpan<char> value)
    {
        WriteByte(output, (byte)'"');
        while (!value.IsEmpty)
        {
            var special = value.IndexOfAny(s_charsToEscape);
            var run = special < 0 ? value : value[..special];
            if (!run.IsEmpty)
            {
                var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(run.Length));
                output.Advance(Encoding.UTF8.GetBytes(run, span));
            }

            if (special < 0)
            {
                break;
            }

            var c = value[special];
            if (char.IsHighSurrogate(c) && special + 1 < value.Length && char.IsLowSurrogate(value[special + 1]))
            {
                WriteRune(output, new Rune(c, value[special + 1]));
                value = value[(special + 2)..];
            }
            else
            {
                WriteCodeUnit(output, c);
                value = value[(special + 1)..];
            }
        }

        WriteByte(output, (byte)'"');
    }

    /// <summary>
    /// Whether the raw content of a JSON string token equals ASCII text, without System.Text.Json's unescaping,
    /// which throws InvalidOperationException on lone surrogate escapes such as <c>"\ud800"</c> (valid for
    /// JSON.parse, so a client may send them).
    /// </summary>
    public static bool ContentEquals(ReadOnlySpan<byte> escaped, ReadOnlySpan<byte> ascii)
    {
        if (escaped.IndexOf((byte)'\\') < 0)
        {
            return escaped.SequenceEqual(ascii);
        }

        var j = 0;
        var i = 0;
        while (i < escaped.Length)
        {
            int unit;
            if (escaped[i] == (byte)'\\')
            {
                if (!TryReadEscape(escaped, ref i, out unit))
                {
                    return false;
                }
            }
            else
            {
                unit = escaped[i++]; // a non-ASCII byte never equals an ASCII one
            }

            if (j >= ascii.Length || unit != ascii[j])
            {
                return false;
            }

            j++;
        }

        return j == ascii.Length;
    }

    /// <summary>
    /// Unescapes the raw content of a JSON string token to UTF-16, keeping lone surrogates as they are (a .NET
    /// string can hold them; JsonElement.GetString would throw).
    /// </summary>
    public static string Unescape(ReadOnlySpan<byte> escaped)
    {
        if (escaped.IndexOf((byte)'\\') < 0)
        {
            return Encoding.UTF8.GetString(escaped);
        }

        var builder = new StringBuilder(escaped.Length);
        while (!escaped.IsEmpty)
        {
            var backslash = escaped.IndexOf((byte)'\\');
            var run = backslash < 0 ? escaped : escaped[..backslash];
            builder.Append(Encoding.UTF8.GetString(run));
            if (backslash < 0)
            {
                break;
            }

            var i = backslash;
            if (!TryReadEscape(escaped, ref i, out var unit))
            {
                break; // cannot happen for a parsed token
            }

            builder.Append((char)unit);
            escaped = escaped[i..];
        }

        return builder.ToString();
    }

    private static bool TryReadEscape(ReadOnlySpan<byte> escaped, ref int i, out int unit)
    {
        unit = 0;
        if (i + 1 >= escaped.Length)
        {
            return false;
        }

        var kind = escaped[i + 1];
        if (kind == (byte)'u')
        {
            if (i + 6 > escaped.Length || !TryHex(escaped.Slice(i + 2, 4), out unit))
            {
                return false;
            }

            i += 6;
            return true;
        }

        unit = kind switch
        {
            (byte)'b' => '\b',
            (byte)'f' => '\f',
            (byte)'n' => '\n',
            (byte)'r' => '\r',
            (byte)'t' => '\t',
            _ => kind,
        };
        i += 2;
        return true;
    }

    /// <summary>The raw content (between the quotes, still escaped) of a string element.</summary>
    public static ReadOnlySpan<byte> RawContent(JsonElement stringElement)
    {
        var raw = JsonMarshal.GetRawUtf8Value(stringElement);
        return raw.Length >= 2 && raw[0] == (byte)'"' ? raw[1..^1] : raw;
    }

    /// <summary>Writes one UTF-16 code unit (not part of a surrogate pair) the way QuoteJSONString does.</summary>
    private static void WriteCodeUnit(IBufferWriter<byte> output, char c)
    {
        switch (c)
        {
            case '"': output.Write("\\\""u8); return;
            case '\\': output.Write("\\\\"u8); return;
            case '\b': output.Write("\\b"u8); return;
            case '\f': output.Write("\\f"u8); return;
            case '\n': output.Write("\\n"u8); return;
            case '\r': output.Write("\\r"u8); return;
            case '\t': output.Write("\\t"u8); return;
        }

        if (c < 0x20 || char.IsSurrogate(c))
        {
            var span = output.GetSpan(6);
            span[0] = (byte)'\\';
            span[1] = (byte)'u';
            span[2] = HexDigits[c >> 12];
            span[3] = HexDigits[(c >> 8) & 0xF];
            span[4] = HexDigits[(c >> 4) & 0xF];
            span[5] = HexDigits[c & 0xF];
            output.Advance(6);
            return;
        }

        WriteRune(output, new Rune(c));
    }

    private static void WriteRune(IBufferWriter<byte> output, Rune rune)
    {
        var span = output.GetSpan(4);
        output.Advance(rune.EncodeToUtf8(span));
    }

    private static void WriteByte(IBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    private static bool TryHex(ReadOnlySpan<byte> hex, out int value)
    {
        value = 0;
        foreach (var b in hex)
        {
            var d = HexConverterValue(b);
            if (d < 0)
            {
                return false;
            }

            value = (value << 4) | d;
        }

        return true;
    }

    private static int HexConverterValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    private static string CharsToEscape()
    {
        var chars = new StringBuilder();
        for (var c = 0; c < 0x20; c++)
        {
            chars.Append((char)c);
        }

        chars.Append('"').Append('\\');
        for (var c = 0xD800; c <= 0xDFFF; c++)
        {
            chars.Append((char)c);
        }

        return chars.ToString();
    }
}

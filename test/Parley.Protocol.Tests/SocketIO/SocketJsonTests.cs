using System.Buffers;
using System.Text;
using System.Text.Json;
using Parley.Protocol.SocketIO;

namespace Parley.Protocol.Tests.SocketIO;

/// <summary>Expected output computed with node 20 <c>JSON.stringify(value)</c>.</summary>
public class SocketJsonTests
{
    public static TheoryData<string, string> StringifyVectors => new()
    {
        { "", "\"\"" },
        { "abc", "\"abc\"" },
        { "\u00e9<>&'", "\"\u00e9<>&'\"" },
        { "\u2028\u2029", "\"\u2028\u2029\"" },
        { "\u007f", "\"\u007f\"" },
        { "\u0000\u0001\b\t\n\u000b\f\r\u001e\u001f", "\"\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u001e\\u001f\"" },
        { "\"\\/", "\"\\\"\\\\/\"" },
        { "\ud83d\ude00", "\"\ud83d\ude00\"" },
        { "\ud800", "\"\\ud800\"" },
        { "\udc00", "\"\\udc00\"" },
        { "a\ud800b", "\"a\\ud800b\"" },
        { "\udc00\ud800", "\"\\udc00\\ud800\"" },
        { "\ud83d\ude00\ud83d", "\"\ud83d\ude00\\ud83d\"" },
        { "\u4e2d\u6587", "\"\u4e2d\u6587\"" },
        { "\ufeff\ufffd", "\"\ufeff\ufffd\"" },
        { "+`${}", "\"+`${}\"" },
    };

    [Theory]
    [MemberData(nameof(StringifyVectors), DisableDiscoveryEnumeration = true)] // xunit would turn lone surrogates into U+FFFD when serializing cases
    public void WriteString_matches_JSON_stringify(string value, string expected)
    {
        var buffer = new ArrayBufferWriter<byte>();
        SocketJson.WriteString(buffer, value);
        Assert.Equal(expected, Utf16(buffer.WrittenSpan));

        var viaWriter = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(viaWriter, SocketJson.WriterOptions))
        {
            json.WriteStartArray();
            SocketJson.WriteStringValue(json, value);
            SocketJson.WriteStringValue(json, value);
            json.WriteEndArray();
        }

        Assert.Equal("[" + expected + "," + expected + "]", Utf16(viaWriter.WrittenSpan));
    }

    [Theory]
    [MemberData(nameof(StringifyVectors), DisableDiscoveryEnumeration = true)] // xunit would turn lone surrogates into U+FFFD when serializing cases
    public void Element_rewrite_matches_JSON_stringify_whatever_the_input_escaping(string value, string expected)
    {
        // The same string, once escaped the way .NET's default encoder does (\uXXXX for nearly everything) and
        // once with every character escaped, must come out as JSON.stringify writes it.
        // (JsonSerializer itself turns lone surrogates into U+FFFD, so it is used only for well-formed text.)
        var wellFormed = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(value)) == value;
        foreach (var json in wellFormed ? new[] { JsonSerializer.Serialize(value), EscapeAll(value) } : [EscapeAll(value)])
        {
            var element = JsonElement.Parse(json);
            var buffer = new ArrayBufferWriter<byte>();
            SocketJson.WriteValue(buffer, element);
            Assert.Equal(expected, Utf16(buffer.WrittenSpan));
        }
    }

    [Fact]
    public void WriteValue_through_Utf8JsonWriter_keeps_structure_and_commas()
    {
        var element = JsonElement.Parse("{ \"3\" : [ true ] , \"n\" : 1 }");
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, SocketJson.WriterOptions))
        {
            json.WriteStartArray();
            json.WriteStringValue("message-back");
            SocketJson.WriteValue(json, element);
            SocketJson.WriteValue(json, JsonElement.Parse("1"));
            json.WriteEndArray();
        }

        Assert.Equal("[\"message-back\",{\"3\":[true],\"n\":1},1]", Utf16(buffer.WrittenSpan));
    }

    [Fact]
    public void Relaxed_writer_options_match_JSON_stringify_for_common_text()
    {
        // Documented scope of SocketJson.WriterOptions: ASCII (including <>&'"\) and BMP letters are exact.
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, SocketJson.WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("m\u00e9", "\u00e9<>&'\"\\/\n\t\u4e2d");
            json.WriteEndObject();
        }

        Assert.Equal("{\"m\u00e9\":\"\u00e9<>&'\\\"\\\\/\\n\\t\u4e2d\"}", Utf16(buffer.WrittenSpan));
        Assert.False(SocketJson.WriterOptions.Indented);
        Assert.False(SocketJson.WriterOptions.SkipValidation);
    }

    [Fact]
    public void Relaxed_writer_options_known_differences_are_as_documented()
    {
        // If this starts failing, the runtime encoder changed: update the remarks of SocketJson.
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, SocketJson.WriterOptions))
        {
            json.WriteStringValue("\u001f\ud83d\ude00\u2028");
        }

        Assert.NotEqual("\"\\u001f\ud83d\ude00\u2028\"", Utf16(buffer.WrittenSpan));
    }

    private static string Utf16(ReadOnlySpan<byte> utf8) => Encoding.UTF8.GetString(utf8);

    private static string EscapeAll(string value)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in value)
        {
            sb.Append("\\u").Append(((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture));
        }

        return sb.Append('"').ToString();
    }
}

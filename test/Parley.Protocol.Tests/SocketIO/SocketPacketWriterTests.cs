using System.Buffers;
using System.Text;
using System.Text.Json;
using Parley.Protocol.SocketIO;

namespace Parley.Protocol.Tests.SocketIO;

/// <summary>Expected strings computed with socket.io-parser 4.2.7 <c>new Encoder().encode(packet)[0]</c>.</summary>
public class SocketPacketWriterTests
{
    [Theory]
    [InlineData(SocketPacketType.Connect, "/woot", null, "{\"token\":\"123\"}", 0, "0/woot,{\"token\":\"123\"}")]
    [InlineData(SocketPacketType.Disconnect, "/woot", null, null, 0, "1/woot,")]
    [InlineData(SocketPacketType.Disconnect, "/", null, null, 0, "1")]
    [InlineData(SocketPacketType.Event, "/", null, "[\"a\",1,{}]", 0, "2[\"a\",1,{}]")]
    [InlineData(SocketPacketType.Event, "/", null, "[1,\"a\",{}]", 0, "2[1,\"a\",{}]")]
    [InlineData(SocketPacketType.Event, "/test", 1L, "[\"a\",1,{}]", 0, "2/test,1[\"a\",1,{}]")]
    [InlineData(SocketPacketType.Ack, "/", 123L, "[\"a\",1,{}]", 0, "3123[\"a\",1,{}]")]
    [InlineData(SocketPacketType.ConnectError, "/", null, "\"Unauthorized\"", 0, "4\"Unauthorized\"")]
    [InlineData(SocketPacketType.ConnectError, "/", null, "{\"message\":\"Unauthorized\"}", 0, "4{\"message\":\"Unauthorized\"}")]
    [InlineData(SocketPacketType.BinaryEvent, "/cool", 23L, "[\"a\",{\"_placeholder\":true,\"num\":0}]", 1, "51-/cool,23[\"a\",{\"_placeholder\":true,\"num\":0}]")]
    [InlineData(SocketPacketType.BinaryEvent, "/cool", 23L, "[\"a\",{\"b\":[\"c\",{\"_placeholder\":true,\"num\":0}]}]", 1, "51-/cool,23[\"a\",{\"b\":[\"c\",{\"_placeholder\":true,\"num\":0}]}]")]
    [InlineData(SocketPacketType.BinaryAck, "/back", 127L, "[\"a\",{\"_placeholder\":true,\"num\":0},{}]", 1, "61-/back,127[\"a\",{\"_placeholder\":true,\"num\":0},{}]")]
    [InlineData(SocketPacketType.BinaryEvent, "/", null, "[\"message-back\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]", 2, "52-[\"message-back\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]")]
    [InlineData(SocketPacketType.BinaryAck, "/", 789L, "[{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]", 2, "62-789[{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]")]
    [InlineData(SocketPacketType.Connect, "/custom", null, "{\"sid\":\"x\"}", 0, "0/custom,{\"sid\":\"x\"}")]
    [InlineData(SocketPacketType.ConnectError, "/random", null, "{\"message\":\"Invalid namespace\"}", 0, "4/random,{\"message\":\"Invalid namespace\"}")]
    [InlineData(SocketPacketType.Event, "", null, "[\"a\"]", 0, "2[\"a\"]")]
    [InlineData(SocketPacketType.Event, null, null, "[\"a\"]", 0, "2[\"a\"]")]
    [InlineData(SocketPacketType.Event, "/", 9007199254740991L, "[\"a\"]", 0, "29007199254740991[\"a\"]")]
    [InlineData(SocketPacketType.Event, "/", long.MaxValue, "[\"a\"]", 0, "29223372036854775807[\"a\"]")]
    [InlineData(SocketPacketType.Event, "/", null, "null", 0, "2")]
    [InlineData(SocketPacketType.Connect, "/\u00e9,x", null, "{}", 0, "0/\u00e9,x,{}")]
    // protocol.md §1.3 server output
    [InlineData(SocketPacketType.Event, "/", null, "[\"auth\",{}]", 0, "2[\"auth\",{}]")]
    [InlineData(SocketPacketType.Event, "/custom", null, "[\"auth\",{\"token\":\"abc\"}]", 0, "2/custom,[\"auth\",{\"token\":\"abc\"}]")]
    [InlineData(SocketPacketType.Event, "/", null, "[\"message-back\",1,\"2\",{\"3\":[true]}]", 0, "2[\"message-back\",1,\"2\",{\"3\":[true]}]")]
    [InlineData(SocketPacketType.Ack, "/", 456L, "[1,\"2\",{\"3\":[false]}]", 0, "3456[1,\"2\",{\"3\":[false]}]")]
    [InlineData(SocketPacketType.Disconnect, "/custom", null, null, 0, "1/custom,")]
    public void Writes_like_socket_io_parser(SocketPacketType type, string? nsp, long? ackId, string? json, int attachments, string expected)
    {
        JsonElement? data = json is null ? null : JsonElement.Parse(json);
        var buffer = new ArrayBufferWriter<byte>();
        SocketPacketWriter.Write(buffer, type, nsp, ackId, data, attachments);
        Assert.Equal(expected, Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void Header_then_Utf8JsonWriter_with_placeholders_writes_the_binary_echo_exactly()
    {
        var buffer = new ArrayBufferWriter<byte>();
        SocketPacketWriter.WriteHeader(buffer, SocketPacketType.BinaryAck, "/", 789, 2);
        using (var json = new Utf8JsonWriter(buffer, SocketJson.WriterOptions))
        {
            json.WriteStartArray();
            SocketPacketWriter.WritePlaceholder(json, 0);
            SocketPacketWriter.WritePlaceholder(json, 1);
            json.WriteEndArray();
        }

        Assert.Equal("62-789[{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]", Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void Header_only_connect_reply()
    {
        var buffer = new ArrayBufferWriter<byte>();
        SocketPacketWriter.WriteHeader(buffer, SocketPacketType.Connect, "/custom", null, 0);
        using (var json = new Utf8JsonWriter(buffer, SocketJson.WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("sid", "AbC-_123");
            json.WriteEndObject();
        }

        Assert.Equal("0/custom,{\"sid\":\"AbC-_123\"}", Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void Header_guards_programming_errors()
    {
        var buffer = new ArrayBufferWriter<byte>();
        Assert.Throws<ArgumentOutOfRangeException>(() => SocketPacketWriter.WriteHeader(buffer, SocketPacketType.BinaryEvent, "/", null, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SocketPacketWriter.WriteHeader(buffer, SocketPacketType.Event, "/", null, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SocketPacketWriter.WriteHeader(buffer, (SocketPacketType)7, "/", null, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SocketPacketWriter.WriteHeader(buffer, SocketPacketType.Ack, "/", -1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SocketPacketWriter.WritePlaceholder(new Utf8JsonWriter(buffer), -1));
        Assert.Equal(0, buffer.WrittenCount);
    }

    [Theory]
    [InlineData(int.MaxValue, "{\"_placeholder\":true,\"num\":2147483647}")]
    [InlineData(0, "{\"_placeholder\":true,\"num\":0}")]
    public void Placeholder_is_exact(int num, string expected)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, SocketJson.WriterOptions))
        {
            SocketPacketWriter.WritePlaceholder(json, num);
        }

        Assert.Equal(expected, Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Theory]
    [InlineData("42[\"message\",1,\"2\",{\"3\":[true]}]")]
    [InlineData("2[\"message\",1,\"2\",{\"3\":[true]}]")]
    [InlineData("2456[\"message-with-ack\",1,\"2\",{\"3\":[false]}]")]
    [InlineData("0/custom,{\"token\":\"abc\"}")]
    [InlineData("2[\"x\",{\"b\":1,\"a\":2,\"a\":3},[],{},\"\",-0.5e-7,1E+2,123456789012345678901234567890]")]
    [InlineData("2[\"\u00e9<>&'\u2028\u2029\u007f\ud83d\ude00\"]")]
    [InlineData("2[\"\\u001f\\b\\n\\\"\\\\\",\"\ufffd\"]")] // a lone surrogate escape is read as U+FFFD
    [InlineData("3/a,1[null,true,false]")]
    [InlineData("4\"x\"")]
    [InlineData("1/custom,")]
    public void Decode_then_write_reproduces_canonical_input(string input)
    {
        if (input.StartsWith("42", StringComparison.Ordinal))
        {
            input = input[1..]; // protocol.md quotes Engine.IO framed messages; the codec sees the part after '4'.
        }

        var decoder = new SocketPacketDecoder();
        Assert.Equal(SocketDecodeResult.Complete, decoder.Decode(Encoding.UTF8.GetBytes(input), out var packet));
        var buffer = new ArrayBufferWriter<byte>();
        SocketPacketWriter.Write(buffer, packet!.Type, packet.Namespace, packet.AckId, packet.Data, 0);
        Assert.Equal(Encoding.UTF8.GetBytes(input), buffer.WrittenSpan.ToArray());
    }

    [Fact]
    public void Decoded_binary_packet_rewrites_byte_exact()
    {
        const string input = "52-789[\"message-with-ack\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]";
        var decoder = new SocketPacketDecoder();
        Assert.Equal(SocketDecodeResult.AwaitingAttachments, decoder.Decode(Encoding.UTF8.GetBytes(input), out _));
        Assert.Equal(SocketDecodeResult.AwaitingAttachments, decoder.AddAttachment(new byte[] { 1, 2, 3 }, out _));
        Assert.Equal(SocketDecodeResult.Complete, decoder.AddAttachment(new byte[] { 4, 5, 6 }, out var packet));
        var buffer = new ArrayBufferWriter<byte>();
        SocketPacketWriter.Write(buffer, packet!.Type, packet.Namespace, packet.AckId, packet.Data, packet.Attachments.Count);
        Assert.Equal(input, Encoding.UTF8.GetString(buffer.WrittenSpan));
    }
}

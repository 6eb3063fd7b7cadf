using System.Buffers;
using System.Text;
using Parley.Protocol.EngineIO;

namespace Parley.Protocol.Tests.EngineIO;

/// <summary>
/// Engine.IO v3 polling payloads. The expected bytes were produced by engine.io-parser 2.2.1 (what socket.io-client 2.x
/// speaks); <c>Parley.Tests</c> also compares against the running package.
/// </summary>
public sealed class EnginePayloadV3Tests
{
    private static string WriteText(bool supportsBinary, params EnginePacket[] packets)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Assert.False(EnginePayloadV3.IsBinaryPayload(packets, supportsBinary));
        EnginePayloadV3.Write(buffer, packets, supportsBinary);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static List<(EnginePacketType Type, bool Binary, byte[] Data)>? Read(byte[] payload, bool binary)
    {
        var packets = new List<(EnginePacketType, bool, byte[])>();
        var ok = EnginePayloadV3.TryRead(payload, binary, packets, static (list, type, isBinary, data) =>
        {
            list.Add((type, isBinary, data.ToArray()));
            return true;
        });
        return ok ? packets : null;
    }

    [Fact]
    public void Text_form_counts_lengths_in_utf16_units_and_writes_binary_as_b4_base64()
    {
        Assert.Equal("0:", WriteText(false));
        Assert.Equal("14:0{\"sid\":\"abc\"}3:440", WriteText(true, EnginePacket.Text(EnginePacketType.Open, "{\"sid\":\"abc\"}"), EnginePacket.Text(EnginePacketType.Message, "40")));
        Assert.Equal("13:442[\"é\",\"😀\"]6:b4AQID", WriteText(false, EnginePacket.Text(EnginePacketType.Message, "42[\"é\",\"😀\"]"), EnginePacket.Binary(new byte[] { 1, 2, 3 })));
        Assert.Equal("1:21:6", WriteText(false, EnginePacket.Ping, EnginePacket.Noop));
    }

    [Fact]
    public void Binary_form_frames_each_packet_with_a_marker_its_length_digits_and_ff()
    {
        EnginePacket[] packets = [EnginePacket.Text(EnginePacketType.Message, "451-[\"é\",{\"_placeholder\":true,\"num\":0}]"), EnginePacket.Binary(new byte[] { 1, 2, 3 })];
        Assert.True(EnginePayloadV3.IsBinaryPayload(packets, supportsBinary: true));
        var buffer = new ArrayBufferWriter<byte>();
        EnginePayloadV3.Write(buffer, packets, supportsBinary: true);
        Assert.Equal("AAQB/zQ0NTEtWyLDqSIseyJfcGxhY2Vob2xkZXIiOnRydWUsIm51bSI6MH1dAQT/BAECAw==", Convert.ToBase64String(buffer.WrittenSpan));
    }

    [Fact]
    public void Both_forms_read_back_what_engine_io_parser_writes()
    {
        var text = Read(Encoding.UTF8.GetBytes("13:442[\"é\",\"😀\"]6:b4AQID1:2"), binary: false)!;
        Assert.Equal(3, text.Count);
        Assert.Equal((EnginePacketType.Message, false), (text[0].Type, text[0].Binary));
        Assert.Equal("42[\"é\",\"😀\"]", Encoding.UTF8.GetString(text[0].Data));
        Assert.Equal((EnginePacketType.Message, true), (text[1].Type, text[1].Binary));
        Assert.Equal(new byte[] { 1, 2, 3 }, text[1].Data);
        Assert.Equal(EnginePacketType.Ping, text[2].Type);

        var binary = Read(Convert.FromBase64String("AAQB/zQ0NTEtWyLDqSIseyJfcGxhY2Vob2xkZXIiOnRydWUsIm51bSI6MH1dAQT/BAECAw=="), binary: true)!;
        Assert.Equal(2, binary.Count);
        Assert.Equal("451-[\"é\",{\"_placeholder\":true,\"num\":0}]", Encoding.UTF8.GetString(binary[0].Data));
        Assert.Equal((EnginePacketType.Message, true), (binary[1].Type, binary[1].Binary));
        Assert.Equal(new byte[] { 1, 2, 3 }, binary[1].Data);

        Assert.Empty(Read("0:"u8.ToArray(), binary: false)!);
    }

    [Theory]
    [InlineData("")]              // engine.io-parser: an empty payload is a parser error
    [InlineData("4")]             // no colon
    [InlineData(":40")]           // no length
    [InlineData("x:40")]          // not a number
    [InlineData("5:40")]          // longer than what follows
    [InlineData("2:9x")]          // unknown packet type
    [InlineData("3:b4*")]         // bad base64
    [InlineData("1:\ud83d\ude00")] // a length that ends inside a surrogate pair
    [InlineData("99999999999:4")] // a length beyond any payload
    public void Malformed_text_payloads_are_refused(string payload) =>
        Assert.Null(Read(Encoding.UTF8.GetBytes(payload), binary: false));

    [Theory]
    [InlineData(new byte[] { 2, 1, 0xFF, 0x34 })]             // unknown marker
    [InlineData(new byte[] { 0, 0xFF, 0x34 })]                // no length digits
    [InlineData(new byte[] { 0, 1 })]                         // no 0xFF
    [InlineData(new byte[] { 0, 12, 0xFF, 0x34 })]            // a "digit" above 9
    [InlineData(new byte[] { 0, 5, 0xFF, 0x34 })]             // longer than what follows
    [InlineData(new byte[] { 0, 2, 0xFF, 0x34, 0xC3 })]       // a string part that is not UTF-8
    [InlineData(new byte[] { 1, 2, 0xFF, 9, 1 })]             // binary part of an unknown type
    public void Malformed_binary_payloads_are_refused(byte[] payload) =>
        Assert.Null(Read(payload, binary: true));
}

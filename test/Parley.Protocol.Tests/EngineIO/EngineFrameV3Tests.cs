using Parley.Protocol.EngineIO;

namespace Parley.Protocol.Tests.EngineIO;

/// <summary>
/// Engine.IO v3 WebSocket messages (engine.io-parser 2.2 <c>encodePacket</c> / <c>decodePacket</c>): binary with its
/// type byte, text as in v4 or <c>b</c> + base64 from a client without binary.
/// </summary>
public sealed class EngineFrameV3Tests
{
    [Fact]
    public void A_binary_message_gets_its_type_byte_once_per_packet()
    {
        var packet = EnginePacket.Binary(new byte[] { 1, 2, 3 });
        Assert.Equal(new byte[] { 4, 1, 2, 3 }, packet.V3Frame.ToArray());
        Assert.True(packet.V3Frame.Span == packet.V3Frame.Span, "the v3 frame is built once and kept");
        Assert.Equal(new byte[] { 1, 2, 3 }, packet.Frame.ToArray());

        var text = EnginePacket.Message("42[\"a\"]");
        Assert.True(text.V3Frame.Span == text.Frame.Span, "a text packet's v3 frame is its v4 frame");
    }

    [Theory]
    [InlineData("4hello", EnginePacketType.Message, false, "68656c6c6f")]
    [InlineData("2", EnginePacketType.Ping, false, "")]
    [InlineData("b4AQID", EnginePacketType.Message, true, "010203")]
    public void Text_messages_read_as_v4_packets_or_base64_binary(string frame, EnginePacketType type, bool binary, string hex)
    {
        (EnginePacketType Type, bool Binary, string Hex)? read = null;
        Assert.True(EnginePayloadV3.TryReadTextFrame(System.Text.Encoding.UTF8.GetBytes(frame), 0, (_, t, b, data) =>
        {
            read = (t, b, Convert.ToHexStringLower(data));
            return true;
        }));
        Assert.Equal((type, binary, hex), read);
    }

    [Theory]
    [InlineData("")]
    [InlineData("9")]
    [InlineData("b")]
    [InlineData("b4!!")]
    public void Malformed_text_messages_are_refused(string frame) =>
        Assert.False(EnginePayloadV3.TryReadTextFrame(System.Text.Encoding.UTF8.GetBytes(frame), 0, (_, _, _, _) => true));

    [Fact]
    public void Binary_messages_carry_their_type_as_a_byte()
    {
        Assert.True(EnginePayloadV3.TryReadBinaryFrame(new byte[] { 4, 9, 8 }, out var type, out var data));
        Assert.Equal(EnginePacketType.Message, type);
        Assert.Equal(new byte[] { 9, 8 }, data.ToArray());
        Assert.False(EnginePayloadV3.TryReadBinaryFrame([], out _, out _));
        Assert.False(EnginePayloadV3.TryReadBinaryFrame(new byte[] { 7, 1 }, out _, out _));
    }
}

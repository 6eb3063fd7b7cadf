using System.Buffers;
using System.Text;
using Parley.Protocol.SocketIO;

namespace Parley.Protocol.Tests.SocketIO;

/// <summary>
/// Differential vectors: every expected value below was computed by the real socket.io-parser (4.2.7, from
/// test/js/node_modules) with <c>new Decoder().add(input)</c>; data is <c>JSON.stringify(packet.data)</c>.
/// Cases where Parley deliberately differs are tested in <see cref="SocketPacketDecoderTests"/>.
/// </summary>
public class SocketPacketDecoderUpstreamVectorsTests
{
    [Theory]
    [InlineData("0", "OK", "0", "/", "", "")]
    [InlineData("0/custom", "OK", "0", "/custom", "", "")]
    [InlineData("0/custom,", "OK", "0", "/custom", "", "")]
    [InlineData("0{\"token\":\"123\"}", "OK", "0", "/", "", "{\"token\":\"123\"}")]
    [InlineData("0/custom,{\"token\":\"abc\"}", "OK", "0", "/custom", "", "{\"token\":\"abc\"}")]
    [InlineData("0/random", "OK", "0", "/random", "", "")]
    [InlineData("0[]", "ERR invalid payload", "", "", "", "")]
    [InlineData("0null", "ERR invalid payload", "", "", "", "")]
    [InlineData("0\"x\"", "ERR invalid payload", "", "", "", "")]
    [InlineData("0/admin,\"invalid\"", "ERR invalid payload", "", "", "", "")]
    [InlineData("0/a?b=1,{}", "OK", "0", "/a?b=1", "", "{}")]
    [InlineData("1", "OK", "1", "/", "", "")]
    [InlineData("1/custom", "OK", "1", "/custom", "", "")]
    [InlineData("1/custom,", "OK", "1", "/custom", "", "")]
    [InlineData("1/admin,{}", "ERR invalid payload", "", "", "", "")]
    [InlineData("1{}", "ERR invalid payload", "", "", "", "")]
    [InlineData("2[\"message\",1,\"2\",{\"3\":[true]}]", "OK", "2", "/", "", "[\"message\",1,\"2\",{\"3\":[true]}]")]
    [InlineData("2456[\"message-with-ack\",1,\"2\",{\"3\":[false]}]", "OK", "2", "/", "456", "[\"message-with-ack\",1,\"2\",{\"3\":[false]}]")]
    [InlineData("2/custom,[\"auth\",{}]", "OK", "2", "/custom", "", "[\"auth\",{}]")]
    [InlineData("2/custom,7[\"a\"]", "OK", "2", "/custom", "7", "[\"a\"]")]
    [InlineData("2abc[\"message-with-ack\"]", "ERR invalid payload", "", "", "", "")]
    [InlineData("2{}", "ERR invalid payload", "", "", "", "")]
    [InlineData("2[]", "ERR invalid payload", "", "", "", "")]
    [InlineData("2", "OK", "2", "/", "", "")]
    [InlineData("2/x,", "OK", "2", "/x", "", "")]
    [InlineData("2[{\"toString\":\"foo\"}]", "ERR invalid payload", "", "", "", "")]
    [InlineData("2[true,\"foo\"]", "ERR invalid payload", "", "", "", "")]
    [InlineData("2[null,\"bar\"]", "ERR invalid payload", "", "", "", "")]
    [InlineData("2[\"connect\"]", "ERR invalid payload", "", "", "", "")]
    [InlineData("2[\"connect_error\"]", "ERR invalid payload", "", "", "", "")]
    [InlineData("2[\"disconnect\",\"123\"]", "ERR invalid payload", "", "", "", "")]
    [InlineData("2[\"disconnecting\"]", "ERR invalid payload", "", "", "", "")]
    [InlineData("2[\"newListener\"]", "ERR invalid payload", "", "", "", "")]
    [InlineData("2[\"removeListener\"]", "ERR invalid payload", "", "", "", "")]
    [InlineData("2[\"error\"]", "OK", "2", "/", "", "[\"error\"]")]
    [InlineData("2[1,\"a\",{}]", "OK", "2", "/", "", "[1,\"a\",{}]")]
    [InlineData("2[1.5]", "OK", "2", "/", "", "[1.5]")]
    [InlineData("2[-1]", "OK", "2", "/", "", "[-1]")]
    [InlineData("2[\"Connect\"]", "OK", "2", "/", "", "[\"Connect\"]")]
    [InlineData("2[\"a\"", "ERR invalid payload", "", "", "", "")]
    [InlineData("2/admin,\"invalid", "ERR invalid payload", "", "", "", "")]
    [InlineData("2/admin,{}", "ERR invalid payload", "", "", "", "")]
    [InlineData("2[\"a\"] ", "OK", "2", "/", "", "[\"a\"]")]
    [InlineData("2[\"a\"]x", "ERR invalid payload", "", "", "", "")]
    [InlineData("2 [\"a\"]", "OK", "2", "/", "0", "[\"a\"]")]
    [InlineData("2/nsp, [\"a\"]", "OK", "2", "/nsp", "0", "[\"a\"]")]
    [InlineData("2 1[\"a\"]", "OK", "2", "/", "1", "[\"a\"]")]
    [InlineData("2[\"a\"][\"b\"]", "ERR invalid payload", "", "", "", "")]
    [InlineData("20[\"a\"]", "OK", "2", "/", "0", "[\"a\"]")]
    [InlineData("2007[\"a\"]", "OK", "2", "/", "7", "[\"a\"]")]
    [InlineData("3", "OK", "3", "/", "", "")]
    [InlineData("3123[\"a\",1,{}]", "OK", "3", "/", "123", "[\"a\",1,{}]")]
    [InlineData("3456[1,\"2\",{\"3\":[false]}]", "OK", "3", "/", "456", "[1,\"2\",{\"3\":[false]}]")]
    [InlineData("3[]", "OK", "3", "/", "", "[]")]
    [InlineData("3{}", "ERR invalid payload", "", "", "", "")]
    [InlineData("3\"x\"", "ERR invalid payload", "", "", "", "")]
    [InlineData("3/custom,1[]", "OK", "3", "/custom", "1", "[]")]
    [InlineData("4", "OK", "4", "/", "", "")]
    [InlineData("4\"Unauthorized\"", "OK", "4", "/", "", "\"Unauthorized\"")]
    [InlineData("4{\"message\":\"Unauthorized\"}", "OK", "4", "/", "", "{\"message\":\"Unauthorized\"}")]
    [InlineData("4/random,{\"message\":\"Invalid namespace\"}", "OK", "4", "/random", "", "{\"message\":\"Invalid namespace\"}")]
    [InlineData("4[]", "ERR invalid payload", "", "", "", "")]
    [InlineData("41", "OK", "4", "/", "1", "")]
    [InlineData("4null", "ERR invalid payload", "", "", "", "")]
    [InlineData("4 \"x\"", "OK", "4", "/", "0", "\"x\"")]
    [InlineData("5", "ERR Illegal attachments", "", "", "", "")]
    [InlineData("51", "ERR Illegal attachments", "", "", "", "")]
    [InlineData("5a-", "ERR Illegal attachments", "", "", "", "")]
    [InlineData("51.23-", "ERR Illegal attachments", "", "", "", "")]
    [InlineData("5-[\"a\"]", "ERR Illegal attachments", "", "", "", "")]
    [InlineData("50-[\"a\"]", "ERR Illegal attachments", "", "", "", "")]
    [InlineData("511-[\"a\"]", "ERR too many attachments", "", "", "", "")]
    [InlineData("510-[\"a\"]", "AWAIT", "", "", "", "")]
    [InlineData("51-[\"a\"]", "AWAIT", "", "", "", "")]
    [InlineData("52-[\"message\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]", "AWAIT", "", "", "", "")]
    [InlineData("52-789[\"message-with-ack\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]", "AWAIT", "", "", "", "")]
    [InlineData("5 1 -[\"a\"]", "AWAIT", "", "", "", "")]
    [InlineData("50x1-[\"a\"]", "AWAIT", "", "", "", "")]
    [InlineData("5+1-[\"a\"]", "AWAIT", "", "", "", "")]
    [InlineData("51e0-[\"a\"]", "AWAIT", "", "", "", "")]
    [InlineData("51.0-[\"a\"]", "AWAIT", "", "", "", "")]
    [InlineData("5Infinity-[\"a\"]", "ERR Illegal attachments", "", "", "", "")]
    [InlineData("51e1-[\"a\"]", "AWAIT", "", "", "", "")]
    [InlineData("51-/nsp,3[\"a\"]", "AWAIT", "", "", "", "")]
    [InlineData("51-{}", "ERR invalid payload", "", "", "", "")]
    [InlineData("51-[]", "ERR invalid payload", "", "", "", "")]
    [InlineData("51-", "AWAIT", "", "", "", "")]
    [InlineData("6", "ERR Illegal attachments", "", "", "", "")]
    [InlineData("61-[]", "AWAIT", "", "", "", "")]
    [InlineData("62-789[{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]", "AWAIT", "", "", "", "")]
    [InlineData("61-/custom,5[{\"_placeholder\":true,\"num\":0}]", "AWAIT", "", "", "", "")]
    [InlineData("7", "ERR unknown packet type 7", "", "", "", "")]
    [InlineData("8", "ERR unknown packet type 8", "", "", "", "")]
    [InlineData("9", "ERR unknown packet type 9", "", "", "", "")]
    [InlineData("999", "ERR unknown packet type 9", "", "", "", "")]
    [InlineData("a", "ERR unknown packet type NaN", "", "", "", "")]
    [InlineData("abc", "ERR unknown packet type NaN", "", "", "", "")]
    [InlineData("-1", "ERR unknown packet type NaN", "", "", "", "")]
    [InlineData("", "OK", "0", "/", "", "")]
    [InlineData(" ", "OK", "0", "/", "", "")]
    [InlineData("\t2", "OK", "0", "/", "2", "")]
    [InlineData("\u00a0", "OK", "0", "/", "", "")]
    [InlineData(" {}", "OK", "0", "/", "", "{}")]
    [InlineData("2[\"\u00e9<>&'\\u2028\"]", "OK", "2", "/", "", "[\"\u00e9<>&'\u2028\"]")]
    [InlineData("2[\"\\u00e9\"]", "OK", "2", "/", "", "[\"\u00e9\"]")]
    [InlineData("2[\"\\ud83d\\ude00\",\"\ud83d\ude00\"]", "OK", "2", "/", "", "[\"\ud83d\ude00\",\"\ud83d\ude00\"]")]
    [InlineData("2[\"\\ud800\"]", "OK", "2", "/", "", "[\"\ufffd\"]")] // Parley: lone surrogates become U+FFFD (docs/security.md)
    [InlineData("2[\"\\u001f\\u0000\\b\\f\\n\\r\\t\\/\\\"\\\\\"]", "OK", "2", "/", "", "[\"\\u001f\\u0000\\b\\f\\n\\r\\t/\\\"\\\\\"]")]
    [InlineData("2[\"\u007f\"]", "OK", "2", "/", "", "[\"\u007f\"]")]
    [InlineData("2[{\"a\":1,\"a\":2}]", "ERR invalid payload", "", "", "", "")]
    [InlineData("2[\"x\",{\"b\":1,\"a\":2}]", "OK", "2", "/", "", "[\"x\",{\"b\":1,\"a\":2}]")]
    [InlineData("2[\"x\",{\"_placeholder\":true,\"num\":0}]", "OK", "2", "/", "", "[\"x\",{\"_placeholder\":true,\"num\":0}]")]
    [InlineData("0/custom,1{}", "OK", "0", "/custom", "1", "{}")]
    [InlineData("1/custom,1", "OK", "1", "/custom", "1", "")]
    [InlineData("0/", "OK", "0", "/", "", "")]
    [InlineData("0/,{}", "OK", "0", "/", "", "{}")]
    [InlineData("2/a[\"x\"]", "OK", "2", "/a[\"x\"]", "", "")]
    [InlineData("2/a,[\"x\"],", "ERR invalid payload", "", "", "", "")]
    [InlineData("2[\"a\",{\"b\":[1,{\"c\":null}]}]", "OK", "2", "/", "", "[\"a\",{\"b\":[1,{\"c\":null}]}]")]
    [InlineData("4/nsp,\"x\"", "OK", "4", "/nsp", "", "\"x\"")]
    [InlineData("51-/nsp", "AWAIT", "", "", "", "")]
    [InlineData("51-3", "AWAIT", "", "", "", "")]
    [InlineData("2\u3000[\"a\"]", "OK", "2", "/", "0", "[\"a\"]")]
    [InlineData("2\u2028[\"a\"]", "OK", "2", "/", "0", "[\"a\"]")]
    [InlineData("5\u00a01-[\"a\"]", "AWAIT", "", "", "", "")]
    [InlineData("50b1-[\"a\"]", "AWAIT", "", "", "", "")]
    [InlineData("50o1-[\"a\"]", "AWAIT", "", "", "", "")]
    [InlineData("50x-[\"a\"]", "ERR Illegal attachments", "", "", "", "")]
    [InlineData("5.5e1-[\"a\"]", "AWAIT", "", "", "", "")]
    [InlineData("5.1e1-[\"a\"]", "AWAIT", "", "", "", "")]
    [InlineData("5--[\"a\"]", "ERR Illegal attachments", "", "", "", "")]
    [InlineData("51-2-[\"a\"]", "ERR invalid payload", "", "", "", "")]
    [InlineData("2[\"\u00e9\",\"\u4e2d\"]", "OK", "2", "/", "", "[\"\u00e9\",\"\u4e2d\"]")]
    [InlineData("2[\"a\",\"\\u0041\"]", "OK", "2", "/", "", "[\"a\",\"A\"]")]
    public void Decodes_like_socket_io_parser(string input, string outcome, string type, string nsp, string id, string data)
    {
        var decoder = new SocketPacketDecoder();
        var result = decoder.Decode(Encoding.UTF8.GetBytes(input), out var packet);

        switch (outcome)
        {
            case "AWAIT":
                Assert.Equal(SocketDecodeResult.AwaitingAttachments, result);
                Assert.Null(packet);
                Assert.True(decoder.IsReconstructing);
                break;
            case "OK":
                Assert.Equal(SocketDecodeResult.Complete, result);
                Assert.NotNull(packet);
                Assert.Equal(int.Parse(type, System.Globalization.CultureInfo.InvariantCulture), (int)packet.Type);
                Assert.Equal(nsp, packet.Namespace);
                Assert.Equal(id, packet.AckId?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "");
                if (data.Length == 0)
                {
                    Assert.Null(packet.Data);
                }
                else
                {
                    var buffer = new ArrayBufferWriter<byte>();
                    SocketJson.WriteValue(buffer, packet.Data!.Value);
                    Assert.Equal(data, Encoding.UTF8.GetString(buffer.WrittenSpan));
                }

                Assert.Null(decoder.LastError);
                break;
            default:
                Assert.Equal(SocketDecodeResult.Invalid, result);
                Assert.Null(packet);
                Assert.Equal(outcome, "ERR " + decoder.LastError);
                Assert.False(decoder.IsReconstructing);
                break;
        }
    }
}

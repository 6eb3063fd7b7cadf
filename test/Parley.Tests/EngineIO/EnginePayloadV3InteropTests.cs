using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using Parley.Protocol.EngineIO;
using Parley.Testing;

namespace Parley.Tests.EngineIO;

/// <summary>
/// Engine.IO v3 payloads against the real engine.io-parser 2.2.1 (test/js/eio3-parser.mjs): random packets, text
/// with characters inside and outside the BMP, binary; both payload forms, both directions, byte for byte.
/// </summary>
public sealed class EnginePayloadV3InteropTests : IAsyncLifetime
{
    private readonly NodeDriver _parser = NodeDriver.Start("eio3-parser.mjs");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _parser.DisposeAsync();

    private static readonly string[] s_pieces = ["a", "é", "€", "😀", "\"", "[", "0", " ", "{\"k\":1}", "\u2028"];

    private static List<EnginePacket> RandomPackets(Random random)
    {
        var packets = new List<EnginePacket>();
        for (var n = random.Next(1, 5); n > 0; n--)
        {
            if (random.Next(4) == 0)
            {
                var bytes = new byte[random.Next(0, 40)];
                random.NextBytes(bytes);
                packets.Add(EnginePacket.Binary(bytes));
                continue;
            }
            var text = new StringBuilder();
            for (var i = random.Next(0, 12); i > 0; i--)
            {
                text.Append(s_pieces[random.Next(s_pieces.Length)]);
            }
            packets.Add(EnginePacket.Text(random.Next(3) == 0 ? EnginePacketType.Ping : EnginePacketType.Message, text.ToString()));
        }
        return packets;
    }

    private static JsonObject ToJs(EnginePacket packet)
    {
        var type = packet.IsBinary ? "message" : packet.Type.ToString().ToLowerInvariant();
        return packet.IsBinary
            ? new JsonObject { ["type"] = type, ["bin"] = Convert.ToBase64String(packet.Frame.Span) }
            : new JsonObject { ["type"] = type, ["data"] = Encoding.UTF8.GetString(packet.Data.Span) };
    }

    [Fact]
    public async Task Parley_writes_and_reads_what_engine_io_parser_2_writes_and_reads()
    {
        var random = new Random(20261202);
        for (var round = 0; round < 60; round++)
        {
            var packets = RandomPackets(random);
            var supportsBinary = round % 2 == 0;
            var expected = await _parser.CallAsync("encode", new { packets = new JsonArray(packets.Select(p => (JsonNode)ToJs(p)).ToArray()), supportsBinary });

            var buffer = new ArrayBufferWriter<byte>();
            EnginePayloadV3.Write(buffer, packets, supportsBinary);
            var binaryForm = EnginePayloadV3.IsBinaryPayload(packets, supportsBinary);
            if (binaryForm)
            {
                Assert.Equal(expected!["bin"]!.GetValue<string>(), Convert.ToBase64String(buffer.WrittenSpan));
            }
            else
            {
                Assert.Equal(expected!["text"]!.GetValue<string>(), Encoding.UTF8.GetString(buffer.WrittenSpan));
            }

            // What Parley writes, engine.io-parser reads back as the same packets, and so does Parley.
            var decoded = await _parser.CallAsync("decode", binaryForm
                ? new { bin = Convert.ToBase64String(buffer.WrittenSpan) }
                : (object)new { text = Encoding.UTF8.GetString(buffer.WrittenSpan) });
            Assert.Equal(new JsonArray(packets.Select(p => (JsonNode)ToJs(p)).ToArray()).ToJsonString(), Normalise(decoded!.AsArray()).ToJsonString());

            var read = new List<EnginePacket>();
            Assert.True(EnginePayloadV3.TryRead(buffer.WrittenSpan, binaryForm, read, static (list, type, isBinary, data) =>
            {
                list.Add(isBinary ? EnginePacket.Binary(data.ToArray()) : EnginePacket.Text(type, data));
                return true;
            }));
            Assert.Equal(packets.Select(p => ToJs(p).ToJsonString()), read.Select(p => ToJs(p).ToJsonString()));
        }
    }

    /// <summary>engine.io-parser leaves out <c>data</c> of an empty text packet.</summary>
    private static JsonArray Normalise(JsonArray packets) =>
        new(packets.Select(p =>
        {
            var o = p!.AsObject().DeepClone().AsObject();
            if (o["bin"] is null && o["data"] is null)
            {
                o["data"] = "";
            }
            return (JsonNode)o;
        }).ToArray());
}

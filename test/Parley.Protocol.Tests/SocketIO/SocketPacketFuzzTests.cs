using System.Buffers;
using System.Text;
using Parley.Protocol.SocketIO;

namespace Parley.Protocol.Tests.SocketIO;

/// <summary>Seeded random and mutated inputs: the codec never throws and every outcome is consistent.</summary>
public class SocketPacketFuzzTests
{
    private static readonly string[] s_seeds =
    [
        "0", "0/custom,{\"token\":\"abc\"}", "1/custom,", "2[\"message\",1,\"2\",{\"3\":[true]}]",
        "2456[\"message-with-ack\",1,\"2\",{\"3\":[false]}]", "3456[1,\"2\",{\"3\":[false]}]", "4{\"message\":\"x\"}",
        "4\"Unauthorized\"", "52-[\"message\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]",
        "62-/nsp,789[{\"_placeholder\":true,\"num\":0},{\"a\":{\"_placeholder\":true,\"num\":1}}]",
        "2[\"\\ud800\\u0000\\n\\\"\",\"\u00e9\ud83d\ude00\",{\"\\u005fplaceholder\":true}]", "2[1e400,-0,1.5]",
    ];

    private static ReadOnlySpan<byte> Alphabet => "0123456789-/,[]{}\":_ .eEtrufalsn\\u\t\u00a0x"u8;

    [Fact]
    public void Random_and_mutated_inputs_never_throw()
    {
        var random = new Random(20260322);
        var decoder = new SocketPacketDecoder(new SocketPacketDecoderOptions { MaxAttachments = 3, MaxJsonDepth = 8 });
        var counts = new int[3];
        for (var iteration = 0; iteration < 20_000; iteration++)
        {
            var input = iteration % 4 == 0 ? RandomBytes(random) : Mutate(random, Encoding.UTF8.GetBytes(s_seeds[random.Next(s_seeds.Length)]));
            SocketDecodeResult result;
            SocketPacket? packet;
            if (random.Next(10) == 0)
            {
                result = decoder.AddAttachment(input, out packet);
            }
            else
            {
                result = decoder.Decode(input, out packet);
            }

            counts[(int)result]++;
            Check(decoder, result, packet);

            // Feed attachments to whatever is waiting, sometimes interrupting with text.
            while (result == SocketDecodeResult.AwaitingAttachments && random.Next(8) != 0)
            {
                result = decoder.AddAttachment(RandomBytes(random), out packet);
                counts[(int)result]++;
                Check(decoder, result, packet);
            }
        }

        // The mutations must exercise every outcome, or the test proves little.
        Assert.All(counts, count => Assert.True(count > 100, string.Join(",", counts)));
    }

    private static void Check(SocketPacketDecoder decoder, SocketDecodeResult result, SocketPacket? packet)
    {
        Assert.True(Enum.IsDefined(result));
        Assert.Equal(result == SocketDecodeResult.Complete, packet is not null);
        Assert.Equal(result == SocketDecodeResult.Invalid, decoder.LastError is not null);
        Assert.Equal(result == SocketDecodeResult.AwaitingAttachments, decoder.IsReconstructing);
        if (packet is null)
        {
            return;
        }

        // Everything a server would touch must work on any accepted packet.
        _ = packet.EventName;
        var buffer = new ArrayBufferWriter<byte>();
        var binary = packet.Type is SocketPacketType.BinaryEvent or SocketPacketType.BinaryAck;
        SocketPacketWriter.Write(buffer, packet.Type, packet.Namespace, packet.AckId, packet.Data, binary ? packet.Attachments.Count : 0);
        if (packet.Data is { } data)
        {
            Walk(packet, data);
        }

        // What we write, we read back the same (the writer's output is canonical).
        var again = new SocketPacketDecoder(new SocketPacketDecoderOptions { MaxAttachments = 3, MaxJsonDepth = 8 });
        var result2 = again.Decode(buffer.WrittenSpan, out var reread);
        if (binary)
        {
            Assert.Equal(SocketDecodeResult.AwaitingAttachments, result2);
            return;
        }

        Assert.Equal(SocketDecodeResult.Complete, result2);
        var buffer2 = new ArrayBufferWriter<byte>();
        SocketPacketWriter.Write(buffer2, reread!.Type, reread.Namespace, reread.AckId, reread.Data, 0);
        Assert.Equal(buffer.WrittenSpan.ToArray(), buffer2.WrittenSpan.ToArray());
    }

    private static void Walk(SocketPacket packet, System.Text.Json.JsonElement element)
    {
        packet.TryGetAttachment(element, out _);
        if (element.ValueKind == System.Text.Json.JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                Walk(packet, item);
            }
        }
        else if (element.ValueKind == System.Text.Json.JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                Walk(packet, property.Value);
            }
        }
    }

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(0, 24)];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = random.Next(3) == 0 ? (byte)random.Next(256) : Alphabet[random.Next(Alphabet.Length)];
        }

        return bytes;
    }

    private static byte[] Mutate(Random random, byte[] seed)
    {
        var list = new List<byte>(seed);
        var edits = random.Next(1, 4);
        for (var e = 0; e < edits; e++)
        {
            var at = list.Count == 0 ? 0 : random.Next(list.Count);
            var value = random.Next(4) == 0 ? (byte)random.Next(256) : Alphabet[random.Next(Alphabet.Length)];
            switch (random.Next(4))
            {
                case 0 when list.Count > 0: list.RemoveAt(at); break;
                case 1 when list.Count > 0: list[at] = value; break;
                case 2 when list.Count > 0: list.RemoveRange(at, list.Count - at); break;
                default: list.Insert(at, value); break;
            }
        }

        return [.. list];
    }
}

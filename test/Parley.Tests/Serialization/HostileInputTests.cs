using MessagePack;
using Parley.Serialization;

namespace Parley.Tests.Serialization;

/// <summary>What another node or a msgpack client may send: every malformed input fails with the one typed exception.</summary>
public class HostileInputTests
{
    private static readonly byte[] Broadcast = Hex.Parse("""
        93 a6"mRyGlo" 83 a4"type" 02 a4"data" 94 a5"hello" a5"world" 81 a1"a" 01 c4 03 01 02 03 a3"nsp" a1"/"
           83 a5"rooms" 91 a2"r1" a6"except" 90 a5"flags" 80
        """);

    [Fact]
    public void Every_truncation_fails_with_the_typed_exception()
    {
        for (var cut = 0; cut < Broadcast.Length; cut++)
        {
            var prefix = Broadcast[..cut];
            Assert.Throws<MessagePackSerializationException>(() => MessagePackJson.ToJsonElement(prefix, []));
        }
        Assert.Throws<MessagePackSerializationException>(() => MessagePackJson.ToJsonElement((byte[])[.. Broadcast, 0x00], []));
    }

    [Theory]
    [InlineData("dd ffffffff")]
    [InlineData("df ffffffff")]
    [InlineData("dd 7fffffff 01")]
    [InlineData("dc ffff 01")]
    [InlineData("c6 ffffffff 00")]
    [InlineData("c6 7fffffff 00")]
    [InlineData("db ffffffff 61")]
    [InlineData("db 7fffffff 61")]
    [InlineData("c9 ffffffff 05 00")]
    [InlineData("c9 ffffffff 00 00")]
    [InlineData("da 0010 61")]
    [InlineData("c1")]
    [InlineData("d7ff 00")]
    [InlineData("c70aff 00000000000000000000")]
    [InlineData("d6 ff")]
    [InlineData("81 91 01 02")]
    [InlineData("c7 0c ff 00000000 7fffffffffffffff")]
    [InlineData("81 a1 61 dd ffffffff")]
    public void Forged_lengths_and_bad_codes_fail_without_allocating(string hex)
    {
        var bytes = Hex.Parse(hex);
        Assert.Throws<MessagePackSerializationException>(() => MessagePackJson.ToJsonElement(bytes, []));
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<MessagePackSerializationException>(() => MessagePackJson.ToJsonElement(bytes, []));
        // A forged 4 GB length must not be believed: well under a megabyte is allocated on the way to the error.
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
    }

    [Fact]
    public void Nesting_is_bounded()
    {
        var deep = Enumerable.Repeat((byte)0x91, 100).Append((byte)0x01).ToArray();
        var e = Assert.Throws<MessagePackSerializationException>(() => MessagePackJson.ToJsonElement(deep, []));
        Assert.Contains("deeper than 64", e.Message, StringComparison.Ordinal);
        var deepMaps = Enumerable.Range(0, 100).SelectMany(_ => new byte[] { 0x81, 0xa1, 0x6b }).Append((byte)0xc0).ToArray();
        Assert.Throws<MessagePackSerializationException>(() => MessagePackJson.ToJsonElement(deepMaps, []));
        // Nesting far beyond any stack: refused at the limit, never a stack overflow.
        var hostile = Enumerable.Repeat((byte)0x91, 1_000_000).Append((byte)0x01).ToArray();
        Assert.Throws<MessagePackSerializationException>(() => MessagePackJson.ToJsonElement(hostile, []));
        // 64 levels are fine.
        var ok = Enumerable.Repeat((byte)0x91, 64).Append((byte)0x01).ToArray();
        Assert.StartsWith("[[[[", MessagePackJson.ToJsonElement(ok, []).GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public void Random_and_mutated_input_only_ever_throws_the_typed_exception()
    {
        var random = new Random(1234);
        for (var i = 0; i < 20_000; i++)
        {
            byte[] bytes;
            if (i % 2 == 0)
            {
                bytes = new byte[random.Next(1, 40)];
                random.NextBytes(bytes);
            }
            else
            {
                bytes = (byte[])Broadcast.Clone();
                for (var m = random.Next(1, 4); m > 0; m--)
                {
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                }
            }
            try
            {
                MessagePackJson.ToJsonElement(bytes, []);
            }
            catch (MessagePackSerializationException)
            {
            }
            catch (Exception e)
            {
                Assert.Fail($"{e.GetType().Name} for {Hex.Of(bytes)}: {e.Message}");
            }
        }
    }
}

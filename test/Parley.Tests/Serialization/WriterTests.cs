using System.Text.Json;
using MessagePack;
using Parley.Serialization;

namespace Parley.Tests.Serialization;

/// <summary>
/// MessagePack-CSharp's writer with the bridge's choices writes notepack.io's forms: the smallest header of every
/// kind, integers the smallest, non-integers float64 (the same rules are checked against the real notepack in
/// <see cref="NotepackCrossCheckTests"/>).
/// </summary>
public class WriterTests
{
    [Fact]
    public void Broadcast_vector_from_the_documented_broadcast_is_written_byte_for_byte()
    {
        // io.to("r1").emit("hello","world",{a:1},Buffer[1,2,3]) as captured from @socket.io/redis-adapter 8.3.0.
        var expected = Hex.Parse("""
            93 a6"mRyGlo" 83 a4"type" 02 a4"data" 94 a5"hello" a5"world" 81 a1"a" 01 c4 03 01 02 03 a3"nsp" a1"/"
               83 a5"rooms" 91 a2"r1" a6"except" 90 a5"flags" 80
            """);
        using var data = JsonDocument.Parse("""["hello","world",{"a":1},{"_placeholder":true,"num":0}]""");
        var data0 = data.RootElement;
        var hex = Msgpack.Write((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(3);
            w.Write("mRyGlo");
            w.WriteMapHeader(3);
            w.Write("type");
            w.Write(2);
            w.Write("data");
            MessagePackJson.WriteMessagePack(ref w, data0, [new byte[] { 1, 2, 3 }]);
            w.Write("nsp");
            w.Write("/");
            w.WriteMapHeader(3);
            w.Write("rooms");
            w.WriteArrayHeader(1);
            w.Write("r1");
            w.Write("except");
            w.WriteArrayHeader(0);
            w.Write("flags");
            w.WriteMapHeader(0);
        });
        Assert.Equal(Hex.Of(expected), hex);
    }

    [Fact]
    public void Float_payload_vector_uses_float64()
    {
        // io.emit("all",1.5) → data ["all",1.5] with 1.5 as cb (docs/wire-formats.md §5.1).
        Assert.Equal("92a3616c6ccb3ff8000000000000", Msgpack.FromJson("""["all",1.5]"""));
    }

    [Theory]
    [InlineData(0L, "00")]
    [InlineData(127L, "7f")]
    [InlineData(128L, "cc80")]
    [InlineData(255L, "ccff")]
    [InlineData(256L, "cd0100")]
    [InlineData(65535L, "cdffff")]
    [InlineData(65536L, "ce00010000")]
    [InlineData(4294967295L, "ceffffffff")]
    [InlineData(4294967296L, "cf0000000100000000")]
    [InlineData(-1L, "ff")]
    [InlineData(-32L, "e0")]
    [InlineData(-33L, "d0df")]
    [InlineData(-128L, "d080")]
    [InlineData(-129L, "d1ff7f")]
    [InlineData(-32768L, "d18000")]
    [InlineData(-32769L, "d2ffff7fff")]
    [InlineData(-2147483648L, "d280000000")]
    [InlineData(-2147483649L, "d3ffffffff7fffffff")]
    [InlineData(long.MinValue, "d38000000000000000")]
    public void Integers_take_the_smallest_form(long value, string hex)
    {
        Assert.Equal(hex, Msgpack.Write((ref MessagePackWriter w) => w.Write(value)));
        Assert.Equal(hex, Msgpack.Write((ref MessagePackWriter w) => MessagePackJson.WriteNumber(ref w, value)));
        Assert.Equal(hex, Msgpack.FromJson(value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void Numbers_follow_notepack()
    {
        Assert.Equal("cfffffffffffffffff", Msgpack.Write((ref MessagePackWriter w) => w.Write(ulong.MaxValue)));
        Assert.Equal("cb3ff8000000000000", Msgpack.Write((ref MessagePackWriter w) => MessagePackJson.WriteNumber(ref w, 1.5)));
        Assert.Equal("02", Msgpack.Write((ref MessagePackWriter w) => MessagePackJson.WriteNumber(ref w, 2.0)));
        Assert.Equal("00", Msgpack.Write((ref MessagePackWriter w) => MessagePackJson.WriteNumber(ref w, -0.0)));
        // V8's NaN, not .NET's (which has the sign bit set).
        Assert.Equal("cb7ff8000000000000", Msgpack.Write((ref MessagePackWriter w) => MessagePackJson.WriteNumber(ref w, double.NaN)));
        Assert.Equal("cb7ff0000000000000", Msgpack.Write((ref MessagePackWriter w) => MessagePackJson.WriteNumber(ref w, double.PositiveInfinity)));
        // Beyond 64 bits notepack's hi/lo words wrap: 2^64 is uint64 0, −2^63 − 2048 is int64 2^63 − 2048.
        Assert.Equal("cf0000000000000000", Msgpack.Write((ref MessagePackWriter w) => MessagePackJson.WriteNumber(ref w, 18446744073709551616.0)));
        Assert.Equal("d37ffffffffffff800", Msgpack.Write((ref MessagePackWriter w) => MessagePackJson.WriteNumber(ref w, -9223372036854777856.0)));
    }

    [Fact]
    public void Json_numbers_are_the_js_numbers_notepack_would_write()
    {
        // 1.0 and 1e2 are the JS numbers 1 and 100 (integers for notepack); -0 is 00; fractions are float64.
        Assert.Equal("96 01 01 64 00 d0df cb3ff8000000000000".Replace(" ", "", StringComparison.Ordinal), Msgpack.FromJson("[1, 1.0, 1e2, -0.0, -33, 1.5]"));
        // Integers that fit 64 bits are written exactly (JS would round 2^53 + 1).
        Assert.Equal("92cf0020000000000001cfffffffffffffffff", Msgpack.FromJson("[9007199254740993, 18446744073709551615]"));
    }

    [Theory]
    [InlineData(0, "a0")]
    [InlineData(31, "bf")]
    [InlineData(32, "d920")]
    [InlineData(255, "d9ff")]
    [InlineData(256, "da0100")]
    [InlineData(65535, "daffff")]
    [InlineData(65536, "db00010000")]
    public void String_headers_are_the_smallest(int length, string header)
    {
        var hex = Msgpack.Write((ref MessagePackWriter w) => w.Write(new string('x', length)));
        Assert.StartsWith(header, hex, StringComparison.Ordinal);
        Assert.Equal((header.Length / 2) + length, hex.Length / 2);
    }

    [Theory]
    [InlineData(0, "c400")]
    [InlineData(255, "c4ff")]
    [InlineData(256, "c50100")]
    [InlineData(65536, "c600010000")]
    public void Binary_headers_are_the_smallest(int length, string header)
    {
        var hex = Msgpack.Write((ref MessagePackWriter w) => w.Write(new byte[length].AsSpan()));
        Assert.StartsWith(header, hex, StringComparison.Ordinal);
        Assert.Equal((header.Length / 2) + length, hex.Length / 2);
    }

    [Theory]
    [InlineData(15, "9f", "8f")]
    [InlineData(16, "dc0010", "de0010")]
    [InlineData(65536, "dd00010000", "df00010000")]
    public void Container_headers_are_the_smallest(int count, string array, string map)
    {
        Assert.Equal(array, Msgpack.Write((ref MessagePackWriter w) => w.WriteArrayHeader(count)));
        Assert.Equal(map, Msgpack.Write((ref MessagePackWriter w) => w.WriteMapHeader(count)));
    }

    [Fact]
    public void Utf8_strings_count_bytes_not_chars()
    {
        // "é😀" = c3 a9 f0 9f 98 80: 6 bytes.
        Assert.Equal("a6c3a9f09f9880", Msgpack.Write((ref MessagePackWriter w) => w.Write("é😀")));
    }

    [Fact]
    public void An_object_that_only_looks_like_a_placeholder_is_a_map()
    {
        // notepack writes such a JS object as a map; only a num indexing the attachments is a Buffer.
        Assert.Equal("9182ac5f706c616365686f6c646572c3a36e756d01", Msgpack.FromJson("""[{"_placeholder":true,"num":1}]""", [new byte[] { 1 }]));
        Assert.Equal("9182ac5f706c616365686f6c646572c2a36e756d00", Msgpack.FromJson("""[{"_placeholder":false,"num":0}]""", [new byte[] { 1 }]));
        Assert.Equal("91c40101", Msgpack.FromJson("""[{"_placeholder":true,"num":0}]""", [new byte[] { 1 }]));
    }
}

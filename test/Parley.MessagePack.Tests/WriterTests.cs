using System.Buffers;
using System.Text.Json;

namespace Parley.MessagePack.Tests;

public class WriterTests
{
    private static string Write(Action<MessagePackWriterBox> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(new MessagePackWriterBox(buffer));
        return Hex.Of(buffer.WrittenSpan);
    }

    /// <summary>Lets a lambda use the ref struct writer.</summary>
    internal sealed class MessagePackWriterBox(IBufferWriter<byte> output)
    {
        public MessagePackWriter Writer => new(output);
    }

    [Fact]
    public void Broadcast_vector_from_The_documented_broadcast_is_written_byte_for_byte()
    {
        // io.to("r1").emit("hello","world",{a:1},Buffer[1,2,3]) as captured from @socket.io/redis-adapter 8.3.0.
        var expected = Hex.Parse("""
            93 a6"mRyGlo" 83 a4"type" 02 a4"data" 94 a5"hello" a5"world" 81 a1"a" 01 c4 03 01 02 03 a3"nsp" a1"/"
               83 a5"rooms" 91 a2"r1" a6"except" 90 a5"flags" 80
            """);
        var buffer = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        w.WriteArrayHeader(3);
        w.WriteString("mRyGlo");
        w.WriteMapHeader(3);
        w.WriteString("type");
        w.WriteInt64(2);
        w.WriteString("data");
        using var data = JsonDocument.Parse("""["hello","world",{"a":1},{"_placeholder":true,"num":0}]""");
        MessagePackJson.WriteJson(ref w, data.RootElement, [[1, 2, 3]]);
        w.WriteString("nsp");
        w.WriteString("/");
        w.WriteMapHeader(3);
        w.WriteString("rooms");
        w.WriteArrayHeader(1);
        w.WriteString("r1");
        w.WriteString("except");
        w.WriteArrayHeader(0);
        w.WriteString("flags");
        w.WriteMapHeader(0);
        Assert.Equal(Hex.Of(expected), Hex.Of(buffer.WrittenSpan));
    }

    [Fact]
    public void Float_payload_vector_uses_float64()
    {
        // io.emit("all",1.5) → data ["all",1.5] with 1.5 as cb (docs/wire-formats.md §5.1).
        using var doc = JsonDocument.Parse("""["all",1.5]""");
        Assert.Equal("92a3616c6ccb3ff8000000000000", Hex.Of(MessagePackJson.FromJson(doc.RootElement)));
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
        Assert.Equal(hex, Write(b => b.Writer.WriteInt64(value)));
        Assert.Equal(hex, Write(b => b.Writer.WriteNumber(value)));
    }

    [Fact]
    public void Uint64_max_and_numbers_follow_notepack()
    {
        Assert.Equal("cfffffffffffffffff", Write(b => b.Writer.WriteUInt64(ulong.MaxValue)));
        Assert.Equal("cb3ff8000000000000", Write(b => b.Writer.WriteNumber(1.5)));
        Assert.Equal("02", Write(b => b.Writer.WriteNumber(2.0)));
        Assert.Equal("00", Write(b => b.Writer.WriteNumber(-0.0)));
        Assert.Equal("cb7ff8000000000000", Write(b => b.Writer.WriteNumber(double.NaN)));
        Assert.Equal("cb7ff0000000000000", Write(b => b.Writer.WriteNumber(double.PositiveInfinity)));
        Assert.Equal("cb3ff0000000000000", Write(b => b.Writer.WriteDouble(1.0)));
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
        var hex = Write(b => b.Writer.WriteString(new string('x', length)));
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
        var hex = Write(b => b.Writer.WriteBinary(new byte[length]));
        Assert.StartsWith(header, hex, StringComparison.Ordinal);
        Assert.Equal((header.Length / 2) + length, hex.Length / 2);
    }

    [Theory]
    [InlineData(15, "9f", "8f")]
    [InlineData(16, "dc0010", "de0010")]
    [InlineData(65536, "dd00010000", "df00010000")]
    public void Container_headers_are_the_smallest(int count, string array, string map)
    {
        Assert.Equal(array, Write(b => b.Writer.WriteArrayHeader(count)));
        Assert.Equal(map, Write(b => b.Writer.WriteMapHeader(count)));
    }

    [Fact]
    public void Utf8_strings_count_bytes_not_chars()
    {
        // "é😀" = c3 a9 f0 9f 98 80: 6 bytes.
        Assert.Equal("a6c3a9f09f9880", Write(b => b.Writer.WriteString("é😀")));
    }

    [Theory]
    [InlineData("1970-01-01T00:00:01.000Z", "d6ff00000001")]
    [InlineData("2024-05-01T12:00:00.000Z", "d6ff66322ec0")]
    [InlineData("2024-05-01T12:00:00.123Z", "d7ff1d53530066322ec0")]
    [InlineData("1969-12-31T23:59:59.000Z", "c70cff00000000ffffffffffffffff")]
    public void Dates_are_timestamps_like_notepack(string iso, string hex)
    {
        Assert.Equal(hex, Write(b => b.Writer.WriteTimestamp(DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture))));
    }
}

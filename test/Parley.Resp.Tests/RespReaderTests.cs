using System.Buffers;
using System.Text;

namespace Parley.Resp.Tests;

public class RespReaderTests
{
    private static readonly byte[] Composite = Encoding.UTF8.GetBytes(
        "*9\r\n+OK\r\n-ERR bad\r\n:-42\r\n$5\r\nhe\r\no\r\n$-1\r\n*-1\r\n*2\r\n$0\r\n\r\n:1\r\n_\r\n%1\r\n+k\r\n#t\r\n");

    [Fact]
    public void Reads_every_resp2_type_and_the_resp3_extras()
    {
        var buffer = new ReadOnlySequence<byte>(Composite);
        Assert.True(RespReader.TryRead(ref buffer, out var value));
        Assert.True(buffer.IsEmpty);
        Assert.Equal(RespType.Array, value.Type);
        Assert.Equal("OK", value[0].AsString());
        Assert.Equal(RespType.Error, value[1].Type);
        Assert.Equal("ERR bad", value[1].AsString());
        Assert.Equal(-42, value[2].Integer);
        Assert.Equal("he\r\no", value[3].AsString()); // binary-safe: CRLF inside a bulk string
        Assert.True(value[4].IsNull);
        Assert.True(value[5].IsNull);
        Assert.Equal(2, value[6].Count);
        Assert.Equal(0, value[6][0].Bytes.Length);
        Assert.True(value[7].IsNull);
        Assert.Equal(RespType.Map, value[8].Type);
        Assert.Equal(1, value[8][1].Integer);
    }

    [Fact]
    public void Every_split_point_is_need_more_data_then_the_same_value()
    {
        for (var cut = 0; cut < Composite.Length; cut++)
        {
            var partial = new ReadOnlySequence<byte>(Composite, 0, cut);
            Assert.False(RespReader.TryRead(ref partial, out _));
            Assert.Equal(cut, partial.Length); // nothing consumed

            // The same bytes in two segments split at the cut parse whole.
            var split = TwoSegments(Composite, cut);
            Assert.True(RespReader.TryRead(ref split, out var value));
            Assert.Equal(9, value.Count);
            Assert.Equal("he\r\no", value[3].AsString());
            Assert.True(split.IsEmpty);
        }
    }

    [Fact]
    public void Several_replies_in_one_buffer_are_read_one_by_one()
    {
        var buffer = new ReadOnlySequence<byte>(":1\r\n:2\r\n$3\r\nab"u8.ToArray());
        Assert.True(RespReader.TryRead(ref buffer, out var a));
        Assert.True(RespReader.TryRead(ref buffer, out var b));
        Assert.False(RespReader.TryRead(ref buffer, out _));
        Assert.Equal((1, 2), (a.Integer, b.Integer));
        Assert.Equal(6, buffer.Length);
    }

    [Theory]
    [InlineData("?what\r\n")]
    [InlineData(":12x\r\n")]
    [InlineData(":\r\n")]
    [InlineData(":+1\r\n")]
    [InlineData("$3\r\nabcd\r\n")]
    [InlineData("$-2\r\n")]
    [InlineData("$999999999999\r\n")]
    [InlineData("*-5\r\n")]
    [InlineData("*99999999999\r\n")]
    [InlineData("#x\r\n")]
    [InlineData("_x\r\n")]
    [InlineData("*1\r\n!\r\n")]
    [InlineData(":123456789012345678901\r\n")]
    public void Malformed_replies_throw_the_typed_exception(string text)
    {
        var buffer = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(text));
        Assert.Throws<RespProtocolException>(() => RespReader.TryRead(ref buffer, out _));
    }

    [Fact]
    public void Garbage_without_a_line_end_is_rejected_once_it_is_too_long()
    {
        var short_ = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes("+" + new string('a', 1000)));
        Assert.False(RespReader.TryRead(ref short_, out _));
        var buffer = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes("+" + new string('a', RespReader.MaxLineLength + 10)));
        Assert.Throws<RespProtocolException>(() => RespReader.TryRead(ref buffer, out _));
    }

    [Fact]
    public void A_forged_array_count_waits_without_allocating()
    {
        var buffer = new ReadOnlySequence<byte>("*50000000\r\n:1\r\n"u8.ToArray());
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.False(RespReader.TryRead(ref buffer, out _));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 10_000);
    }

    [Fact]
    public void Deep_nesting_is_rejected()
    {
        var text = string.Concat(Enumerable.Repeat("*1\r\n", 100)) + ":1\r\n";
        var buffer = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(text));
        Assert.Throws<RespProtocolException>(() => RespReader.TryRead(ref buffer, out _));
    }

    [Fact]
    public void Writer_sends_an_array_of_bulk_strings()
    {
        var output = new ArrayBufferWriter<byte>();
        RespWriter.WriteCommand(output, "SET", ["kéy", new byte[] { 0, 13, 10 }, "EX", 3600L, -7]);
        Assert.Equal("*6\r\n$3\r\nSET\r\n$4\r\nkéy\r\n$3\r\n\0\r\n\r\n$2\r\nEX\r\n$4\r\n3600\r\n$2\r\n-7\r\n", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Theory]
    [InlineData("redis://localhost", "localhost", 6379, null, null, 0, false)]
    [InlineData("redis://:pw@h:7000/3", "h", 7000, null, "pw", 3, false)]
    [InlineData("redis://alice:p%40ss@10.0.0.1:6380/15", "10.0.0.1", 6380, "alice", "p@ss", 15, false)]
    [InlineData("rediss://secret@cache.example:6390", "cache.example", 6390, null, "secret", 0, true)]
    [InlineData("redis://[::1]:6379/1", "::1", 6379, null, null, 1, false)]
    public void Connection_strings_parse(string url, string host, int port, string? user, string? password, int db, bool tls)
    {
        var o = RespConnectionOptions.Parse(url);
        Assert.Equal((host, port, user, password, db, tls), (o.Host, o.Port, o.User, o.Password, o.Database, o.UseTls));
        Assert.DoesNotContain(password ?? "\u0001", o.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://localhost")]
    [InlineData("redis://localhost/db1")]
    [InlineData("localhost:6379")]
    public void Bad_connection_strings_are_refused(string url) => Assert.Throws<FormatException>(() => RespConnectionOptions.Parse(url));

    private static ReadOnlySequence<byte> TwoSegments(byte[] bytes, int at)
    {
        var first = new Segment(bytes.AsMemory(0, at), 0);
        var second = new Segment(bytes.AsMemory(at), at);
        first.SetNext(second);
        return new ReadOnlySequence<byte>(first, 0, second, second.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long index)
        {
            Memory = memory;
            RunningIndex = index;
        }

        public void SetNext(Segment next) => Next = next;
    }
}

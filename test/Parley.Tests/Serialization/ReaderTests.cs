using System.Buffers;
using System.Text.Json;
using MessagePack;
using Parley.Serialization;

namespace Parley.Tests.Serialization;

/// <summary>msgpack → JSON + attachments: what notepack.io's <c>decode.js</c> reads, as JSON.stringify would write it.</summary>
public class ReaderTests
{
    [Fact]
    public void Broadcast_vector_decodes_to_json_with_a_placeholder()
    {
        var bytes = Hex.Parse("""
            93 a6"mRyGlo" 83 a4"type" 02 a4"data" 94 a5"hello" a5"world" 81 a1"a" 01 c4 03 01 02 03 a3"nsp" a1"/"
               83 a5"rooms" 91 a2"r1" a6"except" 90 a5"flags" 80
            """);
        var attachments = new List<ReadOnlyMemory<byte>>();
        var json = MessagePackJson.ToJsonElement(bytes, attachments);
        Assert.Equal(
            """["mRyGlo",{"type":2,"data":["hello","world",{"a":1},{"_placeholder":true,"num":0}],"nsp":"/"},{"rooms":["r1"],"except":[],"flags":{}}]""",
            json.GetRawText());
        Assert.Equal([1, 2, 3], Assert.Single(attachments).ToArray());
        // And back: the same bytes.
        Assert.Equal(Hex.Of(bytes), Hex.Of(Msgpack.FromJson(json, attachments)));
    }

    [Fact]
    public void Undefined_map_values_from_msgpack_js_and_notepack_legacy_read_like_notepack()
    {
        // @msgpack/msgpack writes {a:undefined,b:1} as 82a161c0a16201 (null survives, as in notepack's decode).
        Assert.Equal("""{"a":null,"b":1}""", Msgpack.Json("82a161c0a16201"));
        Assert.Equal("""{"b":1}""", Msgpack.Json("81a16201"));
        // notepack's legacy undefined d4 00 00: dropped from maps, null in arrays (JSON.stringify).
        Assert.Equal("""{"b":1}""", Msgpack.Json("82a161d40000a16201"));
        Assert.Equal("[null,1]", Msgpack.Json("92d4000001"));
    }

    [Fact]
    public void Floats_keep_their_kind_and_float32_is_accepted()
    {
        Assert.Equal("[1.5,1.0,-0.25,1E+300,null]", Msgpack.Json("95 cb3ff8000000000000 cb3ff0000000000000 cabe800000 cb7e37e43c8800759c cb7ff8000000000000"));
        // Written back, 1.0 is the JS number 1, which notepack writes as an integer.
        var json = MessagePackJson.ToJsonElement(Hex.Parse("92 cb3ff0000000000000 cb3ff8000000000000"), []);
        Assert.Equal("9201cb3ff8000000000000", Hex.Of(Msgpack.FromJson(json)));
    }

    [Fact]
    public void Large_integers_stay_exact()
    {
        var bytes = Hex.Parse("93 cf0020000000000001 cfffffffffffffffff d38000000000000000");
        var json = MessagePackJson.ToJsonElement(bytes, []);
        Assert.Equal("[9007199254740993,18446744073709551615,-9223372036854775808]", json.GetRawText());
        Assert.Equal(Hex.Of(bytes), Hex.Of(Msgpack.FromJson(json)));
    }

    [Fact]
    public void Timestamps_and_legacy_forms_are_read()
    {
        Assert.Equal("""["1970-01-01T00:00:01.000Z","2024-05-01T12:00:00.123Z","1969-12-31T23:59:59.000Z","2021-01-01T00:00:00.000Z"]""",
            Msgpack.Json("94 d6ff00000001 d7ff1d53530066322ec0 c70cff00000000ffffffffffffffff d700000001 76bb3e7000"));
    }

    [Fact]
    public void Legacy_arraybuffer_and_unknown_ext_become_attachments()
    {
        var attachments = new List<ReadOnlyMemory<byte>>();
        // c7 03 00 = notepack's old ArrayBuffer encoding; d5 05 = an unknown fixext2, decoded as [type, Buffer].
        Assert.Equal("""[{"_placeholder":true,"num":0},[5,{"_placeholder":true,"num":1}]]""", Msgpack.Json("92 c70300010203 d5050a0b", attachments));
        Assert.Equal([1, 2, 3], attachments[0].ToArray());
        Assert.Equal([10, 11], attachments[1].ToArray());
    }

    [Fact]
    public void Non_string_map_keys_are_stringified_like_js()
    {
        Assert.Equal("""{"1":true,"-2":false,"null":null,"undefined":1}""", Msgpack.Json("84 01c3 fec2 c0c0 d4000001"));
    }

    [Fact]
    public void Container_and_binary_map_keys_are_refused()
    {
        Assert.Throws<MessagePackSerializationException>(() => Msgpack.Json("81 90 01"));
        Assert.Throws<MessagePackSerializationException>(() => Msgpack.Json("81 c40101 01"));
    }

    [Fact]
    public void Invalid_utf8_is_replaced_not_thrown()
    {
        Assert.Equal("\"a\\uFFFD\"", Msgpack.Json("a2 61ff"));
        Assert.Equal("""{"a\uFFFD":1}""", Msgpack.Json("81 a2 61ff 01"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(9)]
    public void Multi_segment_sequences_decode_like_one_block(int at)
    {
        // Split inside the string (3, 5), inside the bin header (9) or between values (1).
        var bytes = Hex.Parse("""92 a5"hello" c403010203""");
        var sequence = Segments.Split(bytes, at);
        Assert.False(sequence.IsSingleSegment);
        var attachments = new List<ReadOnlyMemory<byte>>();
        var reader = new MessagePackReader(sequence);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            MessagePackJson.WriteJson(ref reader, writer, attachments);
        }
        Assert.True(reader.End);
        Assert.Equal("""["hello",{"_placeholder":true,"num":0}]""", System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
        Assert.Equal([1, 2, 3], Assert.Single(attachments).ToArray());
    }
}

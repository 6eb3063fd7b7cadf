using System.Text.Json;

namespace Parley.MessagePack.Tests;

public class ReaderTests
{
    private static string Json(string hex, List<byte[]>? attachments = null) =>
        MessagePackJson.ToJsonElement(Hex.Parse(hex), attachments ?? []).GetRawText();

    [Fact]
    public void Broadcast_vector_decodes_to_json_with_a_placeholder()
    {
        var bytes = Hex.Parse("""
            93 a6"mRyGlo" 83 a4"type" 02 a4"data" 94 a5"hello" a5"world" 81 a1"a" 01 c4 03 01 02 03 a3"nsp" a1"/"
               83 a5"rooms" 91 a2"r1" a6"except" 90 a5"flags" 80
            """);
        var attachments = new List<byte[]>();
        var json = MessagePackJson.ToJsonElement(bytes, attachments);
        Assert.Equal(
            """["mRyGlo",{"type":2,"data":["hello","world",{"a":1},{"_placeholder":true,"num":0}],"nsp":"/"},{"rooms":["r1"],"except":[],"flags":{}}]""",
            json.GetRawText());
        Assert.Equal([1, 2, 3], Assert.Single(attachments));
        // And back: the same bytes.
        Assert.Equal(Hex.Of(bytes), Hex.Of(MessagePackJson.FromJson(json, attachments)));
    }

    [Fact]
    public void Typed_reads_walk_the_broadcast_vector()
    {
        var bytes = Hex.Parse("""93 a6"mRyGlo" 81 a4"type" 02 c4 03 01 02 03""");
        var reader = new MessagePackReader(bytes);
        Assert.Equal(MessagePackType.Array, reader.NextType);
        Assert.Equal(3, reader.ReadArrayHeader());
        Assert.Equal("mRyGlo", reader.ReadString());
        Assert.Equal(1, reader.ReadMapHeader());
        Assert.Equal("type"u8.ToArray(), reader.ReadStringUtf8().ToArray());
        Assert.Equal(2, reader.ReadInt64());
        Assert.Equal([1, 2, 3], reader.ReadBinary().ToArray());
        Assert.True(reader.End);
        reader.EnsureEnd();
    }

    [Fact]
    public void Undefined_map_values_from_msgpack_js_and_notepack_legacy_read_like_notepack()
    {
        // @msgpack/msgpack writes {a:undefined,b:1} as 82a161c0a16201 (null survives, as in notepack's decode).
        Assert.Equal("""{"a":null,"b":1}""", Json("82a161c0a16201"));
        Assert.Equal("""{"b":1}""", Json("81a16201"));
        // notepack's legacy undefined d4 00 00: dropped from maps, null in arrays (JSON.stringify).
        Assert.Equal("""{"b":1}""", Json("82a161d40000a16201"));
        Assert.Equal("[null,1]", Json("92d4000001"));
    }

    [Fact]
    public void Floats_keep_their_kind_and_float32_is_accepted()
    {
        Assert.Equal("[1.5,1.0,-0.25,1E+300,null]", Json("95 cb3ff8000000000000 cb3ff0000000000000 cabe800000 cb7e37e43c8800759c cb7ff8000000000000"));
        var bytes = Hex.Parse("92 cb3ff0000000000000 01");
        Assert.Equal(Hex.Of(bytes), Hex.Of(MessagePackJson.FromJson(MessagePackJson.ToJsonElement(bytes, []))));
    }

    [Fact]
    public void Large_integers_stay_exact()
    {
        var bytes = Hex.Parse("93 cf0020000000000001 cfffffffffffffffff d38000000000000000");
        var json = MessagePackJson.ToJsonElement(bytes, []);
        Assert.Equal("[9007199254740993,18446744073709551615,-9223372036854775808]", json.GetRawText());
        Assert.Equal(Hex.Of(bytes), Hex.Of(MessagePackJson.FromJson(json)));
    }

    [Fact]
    public void Json_numbers_with_fraction_or_exponent_become_float64_integers_the_smallest_int()
    {
        using var doc = JsonDocument.Parse("[1, 1.0, 1e2, -33, 300, 123456789012345678901234567890]");
        Assert.Equal("96 01 cb3ff0000000000000 cb4059000000000000 d0df cd012c cb45f8ee90ff6c373e".Replace(" ", "", StringComparison.Ordinal),
            Hex.Of(MessagePackJson.FromJson(doc.RootElement)));
    }

    [Fact]
    public void Timestamps_and_legacy_forms_are_read()
    {
        Assert.Equal("""["1970-01-01T00:00:01.000Z","2024-05-01T12:00:00.123Z","1969-12-31T23:59:59.000Z","2021-01-01T00:00:00.000Z"]""",
            Json("94 d6ff00000001 d7ff1d53530066322ec0 c70cff00000000ffffffffffffffff d700000001 76bb3e7000"));
        var reader = new MessagePackReader(Hex.Parse("d7ff1d53530066322ec0"));
        Assert.Equal(MessagePackType.Timestamp, reader.NextType);
        Assert.Equal(new DateTime(2024, 5, 1, 12, 0, 0, 123, DateTimeKind.Utc), reader.ReadTimestamp());
    }

    [Fact]
    public void Legacy_arraybuffer_and_unknown_ext_become_attachments()
    {
        var attachments = new List<byte[]>();
        // c7 03 00 = notepack's old ArrayBuffer encoding; d5 05 = an unknown fixext2, decoded as [type, Buffer].
        Assert.Equal("""[{"_placeholder":true,"num":0},[5,{"_placeholder":true,"num":1}]]""", Json("92 c70300010203 d5050a0b", attachments));
        Assert.Equal([1, 2, 3], attachments[0]);
        Assert.Equal([10, 11], attachments[1]);
    }

    [Fact]
    public void Non_string_map_keys_are_stringified_like_js()
    {
        Assert.Equal("""{"1":true,"-2":false,"null":null}""", Json("83 01c3 fec2 c0c0"));
    }

    [Fact]
    public void Invalid_utf8_is_replaced_not_thrown()
    {
        Assert.Equal("\"a\\uFFFD\"", Json("a2 61ff"));
    }

    [Fact]
    public void Json_placeholders_out_of_range_are_illegal_attachments()
    {
        using var doc = JsonDocument.Parse("""[{"_placeholder":true,"num":1}]""");
        var e = Assert.Throws<MessagePackFormatException>(() => MessagePackJson.FromJson(doc.RootElement, [[1]]));
        Assert.Contains("illegal attachments", e.Message, StringComparison.Ordinal);
        using var ok = JsonDocument.Parse("""[{"_placeholder":false,"num":1}]""");
        Assert.Equal("9182ac5f706c616365686f6c646572c2a36e756d01", Hex.Of(MessagePackJson.FromJson(ok.RootElement)));
    }

    [Fact]
    public void Multi_segment_sequences_decode_like_spans()
    {
        var bytes = Hex.Parse("""92 a5"hello" c403010203""");
        var sequence = Segments.Split(bytes, 3);
        Assert.False(sequence.IsSingleSegment);
        var attachments = new List<byte[]>();
        Assert.Equal("""["hello",{"_placeholder":true,"num":0}]""", MessagePackJson.ToJsonElement(sequence, attachments).GetRawText());
    }
}

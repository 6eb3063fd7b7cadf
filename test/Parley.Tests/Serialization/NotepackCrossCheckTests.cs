using System.Text.Json;
using System.Text.Json.Nodes;
using MessagePack;
using Parley.Serialization;
using Parley.Testing;

namespace Parley.Tests.Serialization;

/// <summary>Runs test/js/msgpack-notepack.mjs (the real notepack.io 3.0.1) once for the class.</summary>
public sealed class NotepackFixture : IAsyncLifetime
{
    public NodeDriver Node { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Node = NodeDriver.Start("msgpack-notepack.mjs");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Node.DisposeAsync();
}

public class NotepackCrossCheckTests(NotepackFixture fixture) : IClassFixture<NotepackFixture>
{
    // Values as the driver speaks them: {"$bin": base64} is a Buffer, {"$date": iso} a Date.
    public static TheoryData<string> Values => new()
    {
        """["mRyGlo",{"type":2,"data":["hello","world",{"a":1},{"$bin":"AQID"}],"nsp":"/"},{"rooms":["r1"],"except":[],"flags":{}}]""",
        """["all",1.5]""",
        """[0,1,127,128,255,256,65535,65536,4294967295,4294967296,9007199254740991]""",
        """[-1,-32,-33,-128,-129,-32768,-32769,-2147483648,-2147483649,-9007199254740991]""",
        """[0.1,-0.5,3.141592653589793,1.5e-300,5e-324,-1234.5678]""",
        """{"type":3,"data":{"packet":{"type":2,"data":["ackme",7]},"requestId":"ffd8c0ec2a08e55b","opts":{"rooms":[],"except":[],"flags":{"timeout":1000}}},"uid":"0b42","nsp":"/"}""",
        """[null,true,false,"","é😀 ünïcödé","a string that is longer than thirty-two characters, to use Buffer.byteLength"]""",
        """[1,1.0,1e2,100.5e1,2.5e-5,-0.0,4503599627370497.5]""",
        """{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15}""",
        """[[],{},[[[[{"deep":[1]}]]]],{"$bin":""}]""",
    };

    [Theory]
    [MemberData(nameof(Values))]
    public async Task Json_to_msgpack_matches_notepack_encode(string value)
    {
        var node = JsonNode.Parse(value);
        var expected = (await fixture.Node.CallAsync("encode", new { value = node }).WithTimeout())!.GetValue<string>();

        var attachments = new List<ReadOnlyMemory<byte>>();
        var withPlaceholders = ToPlaceholders(node, attachments);
        Assert.Equal(expected, Msgpack.FromJson(withPlaceholders?.ToJsonString() ?? "null", attachments));
    }

    /// <summary>
    /// Numbers JSON cannot carry (<c>{"$number": text}</c> is <c>Number(text)</c> in the driver) and integral numbers
    /// beyond 64 bits, whose bytes notepack wraps: the same bytes here, from <see cref="MessagePackJson.WriteNumber"/>
    /// and from JSON.
    /// </summary>
    [Theory]
    [InlineData("NaN")]
    [InlineData("-0")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("18446744073709551616")]
    [InlineData("-18446744073709551616")]
    [InlineData("36893488147419107328")]
    [InlineData("-9223372036854777856")]
    [InlineData("1e21")]
    [InlineData("123456789012345678901234567890")]
    [InlineData("-1.5e300")]
    public async Task Numbers_beyond_json_and_64_bits_match_notepack_encode(string number)
    {
        var expected = (await fixture.Node.CallAsync("encode", new { value = new JsonObject { ["$number"] = number } }).WithTimeout())!.GetValue<string>();
        var value = double.Parse(number, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(expected, Msgpack.Write((ref MessagePackWriter w) => MessagePackJson.WriteNumber(ref w, value)));
        if (double.IsFinite(value))
        {
            Assert.Equal(expected, Msgpack.FromJson(number));
        }
    }

    [Theory]
    [MemberData(nameof(Values))]
    public async Task Notepack_bytes_decode_to_the_same_value(string value)
    {
        var node = JsonNode.Parse(value);
        var hex = (await fixture.Node.CallAsync("encode", new { value = node }).WithTimeout())!.GetValue<string>();
        var attachments = new List<ReadOnlyMemory<byte>>();
        var json = MessagePackJson.ToJsonElement(Convert.FromHexString(hex), attachments);
        var back = FromPlaceholders(JsonNode.Parse(json.GetRawText()), attachments);
        Assert.True(SameValue(node, back), $"{node?.ToJsonString()} vs {back?.ToJsonString()}");
    }

    [Fact]
    public async Task Bytes_written_here_are_read_by_notepack()
    {
        var hex = Msgpack.Write((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(6);
            w.Write(new byte[300].AsSpan());
            w.Write(new string('é', 200));
            w.Write(ulong.MaxValue);
            w.Write(long.MinValue);
            MessagePackJson.WriteNumber(ref w, 0.1);
            w.WriteMapHeader(0);
        });
        var decoded = await fixture.Node.CallAsync("decode", new { hex }).WithTimeout();
        var array = decoded!.AsArray();
        Assert.Equal(300, Convert.FromBase64String(array[0]!["$bin"]!.GetValue<string>()).Length);
        Assert.Equal(new string('é', 200), array[1]!.GetValue<string>());
        // JS numbers are doubles: notepack reads both 64-bit extremes as their nearest double.
        Assert.Equal(18446744073709551615.0, array[2]!.GetValue<double>());
        Assert.Equal(-9223372036854775808.0, array[3]!.GetValue<double>());
        Assert.Equal(0.1, array[4]!["$float"]!.GetValue<double>());
        Assert.Empty(array[5]!.AsObject());
    }

    [Fact]
    public async Task Notepack_dates_and_undefined_read_here()
    {
        var value = JsonNode.Parse("""{"d":{"$date":"2024-05-01T12:00:00.123Z"},"u":{"$undefined":true},"a":[{"$undefined":true}]}""");
        var hex = (await fixture.Node.CallAsync("encode", new { value }).WithTimeout())!.GetValue<string>();
        // notepack omits undefined map values and writes undefined array items as nil.
        Assert.Equal("""{"d":"2024-05-01T12:00:00.123Z","a":[null]}""", MessagePackJson.ToJsonElement(Convert.FromHexString(hex), []).GetRawText());
    }

    private static JsonNode? ToPlaceholders(JsonNode? node, List<ReadOnlyMemory<byte>> attachments) => node switch
    {
        JsonObject o when o["$bin"] is JsonValue b => Placeholder(Convert.FromBase64String(b.GetValue<string>()), attachments),
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, ToPlaceholders(p.Value, attachments)))),
        JsonArray a => new JsonArray([.. a.Select(x => ToPlaceholders(x, attachments))]),
        _ => node?.DeepClone(),
    };

    private static JsonObject Placeholder(byte[] bytes, List<ReadOnlyMemory<byte>> attachments)
    {
        attachments.Add(bytes);
        return new JsonObject { ["_placeholder"] = true, ["num"] = attachments.Count - 1 };
    }

    private static JsonNode? FromPlaceholders(JsonNode? node, List<ReadOnlyMemory<byte>> attachments) => node switch
    {
        JsonObject o when o["_placeholder"] is JsonValue => DriverBinary.Wrap(attachments[o["num"]!.GetValue<int>()].ToArray()),
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, FromPlaceholders(p.Value, attachments)))),
        JsonArray a => new JsonArray([.. a.Select(x => FromPlaceholders(x, attachments))]),
        _ => node?.DeepClone(),
    };

    /// <summary>Deep equality with numbers compared as values (1.0 == 1) and key order significant.</summary>
    private static bool SameValue(JsonNode? a, JsonNode? b) => (a, b) switch
    {
        (null, null) => true,
        (JsonObject x, JsonObject y) => x.Count == y.Count && x.Zip(y).All(p => p.First.Key == p.Second.Key && SameValue(p.First.Value, p.Second.Value)),
        (JsonArray x, JsonArray y) => x.Count == y.Count && x.Zip(y).All(p => SameValue(p.First, p.Second)),
        (JsonValue x, JsonValue y) when x.GetValueKind() == JsonValueKind.Number && y.GetValueKind() == JsonValueKind.Number =>
            x.GetValue<double>() == y.GetValue<double>(),
        (JsonValue x, JsonValue y) => x.ToJsonString() == y.ToJsonString(),
        _ => false,
    };
}

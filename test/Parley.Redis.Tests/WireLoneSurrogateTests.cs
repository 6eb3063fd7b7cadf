using System.Text;

namespace Parley.Redis.Tests;

/// <summary>What another node sends is repaired like what a client sends: a lone surrogate reads as U+FFFD.</summary>
public sealed class WireLoneSurrogateTests
{
    [Fact]
    public void A_json_request_with_lone_surrogates_decodes_to_replacement_characters()
    {
        // What a Node peer's JSON.stringify writes for serverSideEmit("ev", "\ud800", "a\udc00b").
        var raw = Encoding.UTF8.GetBytes("""{"uid":"peer","type":6,"data":["ev","\ud800","a\udc00b"]}""");
        var (root, attachments) = RedisWire.Decode(raw);
        Assert.Empty(attachments);
        var data = root.GetProperty("data");
        Assert.Equal("\uFFFD", data[1].GetString());
        Assert.Equal("a\uFFFDb", data[2].GetString());
    }
}

using System.Buffers;
using System.Text.Json;
using MessagePack;
using Parley.Serialization;
using Parley.Testing;
using StackExchange.Redis;

namespace Parley.Redis.Tests;

/// <summary>
/// What anyone who can publish on the adapter's channel may send: a classic node reads a broadcast straight from
/// msgpack (RedisAdapter.TryReadBroadcast), and truncated, forged or ill-typed bytes must be dropped, the node and
/// its subscription unharmed, while the next good broadcast is delivered.
/// </summary>
public sealed class WireHostileInputTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static byte[] Broadcast(string uid, string eventName)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        w.WriteArrayHeader(3);
        w.Write(uid);
        w.WriteMapHeader(3);
        w.Write("type");
        w.Write(2);
        w.Write("data");
        using (var data = JsonDocument.Parse($"[\"{eventName}\",1.5,{{\"_placeholder\":true,\"num\":0}}]"))
        {
            MessagePackJson.WriteMessagePack(ref w, data.RootElement, [new byte[] { 1, 2, 3 }]);
        }
        w.Write("nsp");
        w.Write("/");
        w.WriteMapHeader(3);
        w.Write("rooms");
        w.WriteArrayHeader(0);
        w.Write("except");
        w.WriteArrayHeader(0);
        w.Write("flags");
        w.WriteMapHeader(0);
        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    [Fact]
    public async Task Malformed_broadcasts_are_dropped_and_the_next_one_delivered()
    {
        await using var node = await ParleyNode.StartAsync(redis.Url, sharded: false);
        await using var clients = NodeDriver.Start();
        var client = await clients.ConnectAsync(node.Url, ["r"]);
        await using var publisher = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{redis.Port}");
        var channel = RedisChannel.Literal("socket.io#/#");

        var good = Broadcast("peer01", "bad");
        var hostile = new List<byte[]>();
        for (var cut = 1; cut < good.Length; cut += 3)
        {
            hostile.Add(good[..cut]);
        }
        hostile.AddRange(
        [
            Convert.FromHexString("93db7fffffff61"), // a uid whose str32 length runs past the end
            Convert.FromHexString("93dbffffffff61"), // ... and one of 2^32 - 1 (a negative int to MessagePack-CSharp)
            Convert.FromHexString("dd7fffffff01"), // a forged array32 count
            Convert.FromHexString("ddffffffff01"),
            Convert.FromHexString("93a6706565723031dfffffffff"), // a forged map32 count for the packet
            Convert.FromHexString("93a670656572303181a464617461dd7fffffff"), // data: a forged array
            Convert.FromHexString("93a670656572303181c091c1"), // a nil key, then a value with the never-used code c1
            Convert.FromHexString("c1"),
        ]);
        int Logged(int id) => TestLog.Provider.Entries.Count(e => e.EventId.Id == id && e.Message.Contains("socket.io#/#", StringComparison.Ordinal));
        var malformedBefore = Logged(5005);
        var failedBefore = Logged(5006);
        foreach (var bytes in hostile)
        {
            await publisher.GetSubscriber().PublishAsync(channel, bytes).WithTimeout();
        }
        // None of them reached the client: the next event it sees is the good broadcast after them.
        await publisher.GetSubscriber().PublishAsync(channel, Broadcast("peer01", "after")).WithTimeout();
        var after = await clients.ExpectNextAsync(client.Handle, "after");
        Assert.Equal("1.5", after[0]!.ToJsonString());
        Assert.True(node.Status.IsReady);
        // Each was logged as malformed (5005), none escaped to the inbox's last-resort handler (5006).
        Assert.True(Logged(5005) - malformedBefore >= hostile.Count, $"{Logged(5005) - malformedBefore} of {hostile.Count} logged as malformed");
        Assert.Equal(failedBefore, Logged(5006));
    }
}

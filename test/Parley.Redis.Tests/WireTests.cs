using System.Text;
using System.Threading.Channels;
using Parley.Serialization;
using Parley.Testing;
using StackExchange.Redis;

namespace Parley.Redis.Tests;

/// <summary>What Parley publishes, read by a raw subscriber and compared with the bytes captured from Node (docs/wire-formats.md §5).</summary>
public sealed class WireTests(RedisServer redis) : IClassFixture<RedisServer>
{
    /// <summary>A plain StackExchange.Redis subscriber, every message in arrival order.</summary>
    private sealed class RawSubscriber(int port) : IAsyncDisposable
    {
        private readonly Channel<(string Channel, byte[] Payload)> _messages = Channel.CreateUnbounded<(string, byte[])>();
        private ConnectionMultiplexer? _redis;

        public async Task ConnectAsync() => _redis = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},protocol=resp2");

        /// <summary>Subscribes and waits for Redis to confirm it.</summary>
        public async Task SubscribeAsync(RedisChannel channel)
        {
            var queue = await _redis!.GetSubscriber().SubscribeAsync(channel);
            queue.OnMessage(m => _messages.Writer.TryWrite(((string)m.Channel!, (byte[])m.Message!)));
        }

        public async Task<(string Channel, byte[] Payload)> NextAsync() => await _messages.Reader.ReadAsync().AsTask().WithTimeout();

        public async ValueTask DisposeAsync()
        {
            if (_redis is not null)
            {
                await _redis.DisposeAsync();
            }
        }
    }

    private static string Hex(string ascii) => Convert.ToHexStringLower(Encoding.ASCII.GetBytes(ascii));

    [Fact]
    public async Task ClassicBroadcastBytesMatchNotepackCapture()
    {
        await using var node = await ParleyNode.StartAsync(redis.Url, sharded: false);
        await using var raw = new RawSubscriber(redis.Port);
        await raw.ConnectAsync().WithTimeout();
        await raw.SubscribeAsync(RedisChannel.Pattern("socket.io#/#*")).WithTimeout();
        var uid = node.Adapter.Uid;
        Assert.Matches("^[A-Za-z0-9_-]{6}$", uid);

        await node.Io.To("r1").EmitAsync("hello", "world", new { a = 1 }, new byte[] { 1, 2, 3 }).WithTimeout();
        var (channel, payload) = await raw.NextAsync();
        Assert.Equal("socket.io#/#r1#", channel);
        // docs/wire-formats.md §5.1 VERIFIED: 93 a6"mRyGlo" 83 a4"type" 02 a4"data" 94 a5"hello" a5"world" 81 a1"a" 01 c4 03 01 02 03
        // a3"nsp" a1"/" 83 a5"rooms" 91 a2"r1" a6"except" 90 a5"flags" 80 — with our uid in place of mRyGlo.
        var expected = "93" + "a6" + Hex(uid) + "83" + "a4" + Hex("type") + "02" + "a4" + Hex("data") + "94" + "a5" + Hex("hello") + "a5" + Hex("world") +
            "81" + "a1" + Hex("a") + "01" + "c4" + "03" + "010203" + "a3" + Hex("nsp") + "a1" + Hex("/") +
            "83" + "a5" + Hex("rooms") + "91" + "a2" + Hex("r1") + "a6" + Hex("except") + "90" + "a5" + Hex("flags") + "80";
        Assert.Equal(expected, Convert.ToHexStringLower(payload));

        await node.Io.EmitAsync("all", 1.5).WithTimeout();
        (channel, payload) = await raw.NextAsync();
        Assert.Equal("socket.io#/#", channel);
        Assert.Equal($"[\"{uid}\",{{\"type\":2,\"data\":[\"all\",1.5],\"nsp\":\"/\"}},{{\"rooms\":[],\"except\":[],\"flags\":{{}}}}]", MessagePackJson.ToJsonElement(payload, []).GetRawText());
        Assert.Contains("cb3ff8000000000000", Convert.ToHexStringLower(payload), StringComparison.Ordinal); // 1.5 as float64

        await node.Io.To(["r1", "r2"]).Except("r3").Volatile.EmitAsync("v").WithTimeout();
        (channel, payload) = await raw.NextAsync();
        Assert.Equal("socket.io#/#", channel);
        Assert.EndsWith("{\"rooms\":[\"r1\",\"r2\"],\"except\":[\"r3\"],\"flags\":{\"volatile\":true}}]", MessagePackJson.ToJsonElement(payload, []).GetRawText());

        // flags.local is never published: the next message is the marker.
        await node.Io.Local.EmitAsync("local").WithTimeout();
        await node.Io.EmitAsync("marker").WithTimeout();
        (_, payload) = await raw.NextAsync();
        Assert.Contains("\"marker\"", MessagePackJson.ToJsonElement(payload, []).GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClassicRequestsAreJsonWithUpstreamKeyOrder()
    {
        await using var node = await ParleyNode.StartAsync(redis.Url, sharded: false);
        await using var raw = new RawSubscriber(redis.Port);
        await raw.ConnectAsync().WithTimeout();
        await raw.SubscribeAsync(RedisChannel.Literal("socket.io-request#/#")).WithTimeout();
        var uid = node.Adapter.Uid;

        await node.Io.ServerSideEmitAsync("ping", 1).WithTimeout();
        Assert.Equal($"{{\"uid\":\"{uid}\",\"type\":6,\"data\":[\"ping\",1]}}", Encoding.UTF8.GetString((await raw.NextAsync()).Payload));

        await node.Io.To("r1").SocketsJoinAsync("r9").WithTimeout();
        Assert.Equal($"{{\"uid\":\"{uid}\",\"type\":2,\"opts\":{{\"rooms\":[\"r1\"],\"except\":[]}},\"rooms\":[\"r9\"]}}", Encoding.UTF8.GetString((await raw.NextAsync()).Payload));

        await node.Io.DisconnectSocketsAsync(close: true).WithTimeout();
        Assert.Equal($"{{\"uid\":\"{uid}\",\"type\":4,\"opts\":{{\"rooms\":[],\"except\":[]}},\"close\":true}}", Encoding.UTF8.GetString((await raw.NextAsync()).Payload));
    }

    [Fact]
    public async Task ShardedBroadcastIsAClusterMessageOnTheRoomChannel()
    {
        await using var node = await ParleyNode.StartAsync(redis.Url, sharded: true);
        await using var raw = new RawSubscriber(redis.Port);
        await raw.ConnectAsync().WithTimeout();
        await raw.SubscribeAsync(RedisChannel.Sharded("socket.io#/#r1#")).WithTimeout();
        await raw.SubscribeAsync(RedisChannel.Sharded("socket.io#/#")).WithTimeout();
        var uid = node.Adapter.Uid;
        Assert.Matches("^[0-9a-f]{16}$", uid);

        await node.Io.To("r1").EmitAsync("hello", "world", new { a = 1 }, new byte[] { 1, 2, 3 }).WithTimeout();
        var (channel, payload) = await raw.NextAsync();
        Assert.Equal("socket.io#/#r1#", channel);
        Assert.Equal(0x84, payload[0]); // msgpack because of the Buffer
        var attachments = new List<ReadOnlyMemory<byte>>();
        Assert.Equal(
            $"{{\"type\":3,\"data\":{{\"packet\":{{\"type\":2,\"data\":[\"hello\",\"world\",{{\"a\":1}},{{\"_placeholder\":true,\"num\":0}}]}},\"opts\":{{\"rooms\":[\"r1\"],\"except\":[],\"flags\":{{}}}}}},\"uid\":\"{uid}\",\"nsp\":\"/\"}}",
            MessagePackJson.ToJsonElement(payload, attachments).GetRawText());
        Assert.Equal([1, 2, 3], Assert.Single(attachments).ToArray());

        await node.Io.EmitAsync("all", 1.5).WithTimeout();
        (channel, payload) = await raw.NextAsync();
        Assert.Equal("socket.io#/#", channel);
        Assert.Equal($"{{\"type\":3,\"data\":{{\"packet\":{{\"type\":2,\"data\":[\"all\",1.5]}},\"opts\":{{\"rooms\":[],\"except\":[],\"flags\":{{}}}}}},\"uid\":\"{uid}\",\"nsp\":\"/\"}}", Encoding.UTF8.GetString(payload));

        await node.Io.ServerSideEmitAsync("ping", 1).WithTimeout();
        Assert.Equal($"{{\"type\":9,\"data\":{{\"packet\":[\"ping\",1]}},\"uid\":\"{uid}\",\"nsp\":\"/\"}}", Encoding.UTF8.GetString((await raw.NextAsync()).Payload));
    }

    [Fact]
    public async Task ClassicAnswersGoToTheRequestersChannelWithPublishOnSpecificResponseChannel()
    {
        await using var a = await ParleyNode.StartAsync(redis.Url, sharded: false, o => o.PublishOnSpecificResponseChannel = true);
        await using var b = await ParleyNode.StartAsync(redis.Url, sharded: false, o => o.PublishOnSpecificResponseChannel = true);
        await using var raw = new RawSubscriber(redis.Port);
        await raw.ConnectAsync().WithTimeout();
        await raw.SubscribeAsync(RedisChannel.Pattern("socket.io-response#/#*")).WithTimeout();
        b.OnServer("ping", "pong");

        Assert.Empty(await a.Io.FetchSocketsAsync().WithTimeout());
        var (channel, payload) = await raw.NextAsync();
        Assert.Equal($"socket.io-response#/#{a.Adapter.Uid}#", channel);
        Assert.Matches("^\\{\"requestId\":\"[0-9a-f]{16}\",\"sockets\":\\[\\]\\}$", Encoding.UTF8.GetString(payload));

        // A server-side event's answer goes to the shared channel whatever the option says (index.ts).
        var answers = await a.Io.ServerSideEmitWithAckAsync("ping", [1], TimeSpan.FromSeconds(5)).WithTimeout();
        Assert.Equal("\"pong\"", Assert.Single(answers).GetRawText());
        (channel, payload) = await raw.NextAsync();
        Assert.Equal("socket.io-response#/#", channel);
        Assert.Matches("^\\{\"type\":6,\"requestId\":\"[0-9a-f]{16}\",\"data\":\"pong\"\\}$", Encoding.UTF8.GetString(payload));
    }

    [Fact]
    public async Task ClassicAnswersTheRequestsOfOlderNodes()
    {
        await using var node = await ParleyNode.StartAsync(redis.Url, sharded: false);
        await using var raw = new RawSubscriber(redis.Port);
        await raw.ConnectAsync().WithTimeout();
        await raw.SubscribeAsync(RedisChannel.Literal("socket.io-response#/#")).WithTimeout();
        node.Io.Sockets.Adapter.AddAll("not-a-socket", ["r1"]);
        var publisher = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{redis.Port},protocol=resp2").WithTimeout();
        await using (publisher)
        {
            var requests = RedisChannel.Literal("socket.io-request#/#");
            await publisher.GetSubscriber().PublishAsync(requests, "{\"uid\":\"old123\",\"requestId\":\"q1\",\"type\":1}").WithTimeout();
            Assert.Equal("{\"requestId\":\"q1\",\"rooms\":[\"r1\"]}", Encoding.UTF8.GetString((await raw.NextAsync()).Payload));

            // SOCKETS: the ids of the sockets in the rooms (a room member that is not a socket is not one).
            await publisher.GetSubscriber().PublishAsync(requests, "{\"uid\":\"old123\",\"requestId\":\"q2\",\"type\":0,\"rooms\":[\"r1\"]}").WithTimeout();
            Assert.Equal("{\"requestId\":\"q2\",\"sockets\":[]}", Encoding.UTF8.GetString((await raw.NextAsync()).Payload));
        }
    }
}

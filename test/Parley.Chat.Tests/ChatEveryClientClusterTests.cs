using System.Text.Json.Nodes;
using Parley.Testing;

namespace Parley.Chat.Tests;

/// <summary>
/// Two chat nodes on one real Redis: a msgpack client on one node, a v2 client and a default one on the other. The
/// adapter carries the same packets whatever the parser and protocol revision of the clients on each node.
/// </summary>
public sealed class ChatEveryClientClusterTests : IAsyncLifetime
{
    private RedisServer? _redis;
    private ChatHost[] _nodes = [];
    private NodeDriver? _current;
    private NodeDriver? _v2;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _nodes = await ChatHost.StartClusterAsync(_redis.Url, 2);
        _current = NodeDriver.Start();
        _v2 = NodeDriver.Start("driver-v2.mjs");
    }

    public async Task DisposeAsync()
    {
        if (_v2 is not null)
        {
            await _v2.DisposeAsync();
        }
        if (_current is not null)
        {
            await _current.DisposeAsync();
        }
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    private async Task<string> ConnectAsync(NodeDriver driver, ChatHost node, string name, string? parser = null)
    {
        var cookie = await _nodes[0].LoginAsync(name);
        var opts = new JsonObject { ["transports"] = new JsonArray("websocket"), ["extraHeaders"] = new JsonObject { ["cookie"] = cookie } };
        if (parser is not null)
        {
            opts["parser"] = parser;
        }
        var h = await driver.CallForHandleAsync("sio.connect", new { url = node.Url, opts });
        await driver.NextEventAsync(h, "connect");
        Assert.True((await driver.CallAsync("sio.emit", new { h, @event = "join", args = new[] { "across" }, ack = true, timeout = 10_000 }))!["ok"]!.GetValue<bool>());
        return h;
    }

    [Fact]
    public async Task Messages_cross_nodes_whatever_the_parser_and_protocol_of_each_client()
    {
        var packed = await ConnectAsync(_current!, _nodes[0], "Mina", parser: "msgpack");
        var old = await ConnectAsync(_v2!, _nodes[1], "Olga");
        var current = await ConnectAsync(_current!, _nodes[1], "Cleo");

        await _current!.CallAsync("sio.emit", new { h = packed, @event = "message", args = new[] { new { room = "across", text = "from node 0" } }, ack = true, timeout = 10_000 });
        await _v2!.CallAsync("sio.emit", new { h = old, @event = "message", args = new[] { new { room = "across", text = "from node 1" } }, ack = true, timeout = 10_000 });

        foreach (var (driver, h) in new[] { (_current, packed), (_v2, old), (_current, current) })
        {
            var texts = new List<string>();
            while (texts.Count < 2)
            {
                var message = (await driver.NextSocketEventAsync(h, "message"))[0]!;
                texts.Add(message["user"]!.GetValue<string>() + ": " + message["text"]!.GetValue<string>());
            }
            Assert.Equal(["Mina: from node 0", "Olga: from node 1"], texts.Order(StringComparer.Ordinal));
        }
    }
}

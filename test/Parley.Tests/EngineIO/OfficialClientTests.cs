using System.Text.Json.Nodes;
using Parley.EngineIO;
using Parley.Testing;

namespace Parley.Tests.EngineIO;

/// <summary>The official engine.io-client from npm (through test/js/driver.mjs) against the echo server.</summary>
public sealed class OfficialClientTests : IAsyncLifetime
{
    private EchoHost _host = null!;
    private NodeDriver _node = null!;

    public async Task InitializeAsync()
    {
        _host = await EchoHost.StartAsync(EchoHost.CalmOptions());
        _node = NodeDriver.Start();
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        await _host.DisposeAsync();
    }

    private async Task<(string Handle, string Sid, string Transport)> OpenAsync(params string[] transports)
    {
        var opts = new JsonObject();
        if (transports.Length > 0)
        {
            opts["transports"] = new JsonArray(transports.Select(t => (JsonNode)t).ToArray());
        }
        var h = await _node.CallForHandleAsync("eio.open", new { url = _host.Url, opts });
        var open = await _node.NextEventAsync(h, "open");
        return (h, open!["id"]!.GetValue<string>(), open["transport"]!.GetValue<string>());
    }

    /// <summary>Sends 100 text and 10 binary messages in a row, and checks every echo arrives, in order.</summary>
    private async Task EchoManyAsync(string h)
    {
        var expected = new List<JsonNode>();
        for (var i = 0; i < 100; i++)
        {
            var text = $"message {i} \u00e9\u4e2d\ud83d\ude00";
            await _node.CallAsync("eio.send", new { h, data = text });
            expected.Add(JsonValue.Create(text)!);
            if (i % 10 == 0)
            {
                var bytes = Enumerable.Range(0, 300 + i).Select(b => (byte)(b * 7 + i)).ToArray();
                await _node.CallAsync("eio.send", new { h, data = DriverBinary.Wrap(bytes) });
                expected.Add(DriverBinary.Wrap(bytes));
            }
        }
        foreach (var want in expected)
        {
            var got = await _node.NextEventAsync(h, "message");
            Assert.True(JsonNode.DeepEquals(want, got), $"expected {want.ToJsonString()}, got {got?.ToJsonString()}");
        }
    }

    private async Task CloseAndAssertTransportCloseAsync(string h, string sid)
    {
        await _node.CallAsync("eio.close", new { h });
        var close = await _node.NextEventAsync(h, "close");
        Assert.Equal("forced close", close!["reason"]!.GetValue<string>()); // the client's own name for close()
        Assert.Equal("transport close", await _host.ClosedReason(sid));
        await TestTimeouts.Eventually(() => !_host.IsOpen(sid));
    }

    [Fact]
    public async Task Polling_only_client_echoes_text_and_binary_in_order()
    {
        var (h, sid, transport) = await OpenAsync("polling");
        Assert.Equal("polling", transport);
        await EchoManyAsync(h);
        Assert.Equal(EngineTransport.Polling, _host.Connections[sid].Transport);
        await CloseAndAssertTransportCloseAsync(h, sid);
    }

    [Fact]
    public async Task WebSocket_only_client_echoes_text_and_binary_in_order()
    {
        var (h, sid, transport) = await OpenAsync("websocket");
        Assert.Equal("websocket", transport);
        await EchoManyAsync(h);
        Assert.Equal(EngineTransport.WebSocket, _host.Connections[sid].Transport);
        await CloseAndAssertTransportCloseAsync(h, sid);
    }

    [Fact]
    public async Task Client_upgrades_from_polling_to_websocket_and_keeps_order()
    {
        var (h, sid, transport) = await OpenAsync();
        Assert.Equal("polling", transport);
        // Messages sent while the upgrade runs must all come back, in order, whichever transport carries them.
        // (EchoManyAsync reads message events only; the upgrade is checked on both ends afterwards.)
        await EchoManyAsync(h);
        await TestTimeouts.Eventually(() => _host.Connections[sid].Transport == EngineTransport.WebSocket, because: "upgraded");
        await LogAssert.Logged(sid, "upgraded to websocket");
        await EchoManyAsync(h);
        var info = await _node.CallAsync("eio.info", new { h });
        Assert.Equal("websocket", info!["transport"]!.GetValue<string>());
        await CloseAndAssertTransportCloseAsync(h, sid);
    }

    [Fact]
    public async Task Server_sends_first_and_the_client_receives()
    {
        var (h, sid, _) = await OpenAsync("websocket");
        _host.Connections[sid].Send(Parley.Protocol.EngineIO.EnginePacket.Message("from the server"));
        _host.Connections[sid].Send(Parley.Protocol.EngineIO.EnginePacket.Binary(new byte[] { 9, 8, 7 }));
        Assert.Equal("from the server", (await _node.NextEventAsync(h, "message"))!.GetValue<string>());
        Assert.Equal([9, 8, 7], DriverBinary.Unwrap(await _node.NextEventAsync(h, "message")));
        _host.Connections[sid].Close();
        var close = await _node.NextEventAsync(h, "close");
        Assert.Equal("transport close", close!["reason"]!.GetValue<string>());
        Assert.Equal("forced close", await _host.ClosedReason(sid));
    }

    [Fact]
    public async Task Server_close_reaches_a_polling_client()
    {
        var (h, sid, _) = await OpenAsync("polling");
        _host.Connections[sid].Close();
        var close = await _node.NextEventAsync(h, "close");
        Assert.Equal("transport close", close!["reason"]!.GetValue<string>());
    }
}

/// <summary>The official client keeps a session alive through fast heartbeats on both transports.</summary>
public sealed class OfficialClientHeartbeatTests : IAsyncLifetime
{
    private EchoHost _host = null!;
    private NodeDriver _node = null!;

    public async Task InitializeAsync()
    {
        // Many ping rounds (every 200 ms) with a pong deadline loose enough for a loaded two-core CI machine.
        var options = EchoHost.SuiteOptions();
        options.PingInterval = TimeSpan.FromMilliseconds(200);
        options.PingTimeout = TimeSpan.FromSeconds(3);
        _host = await EchoHost.StartAsync(options);
        _node = NodeDriver.Start();
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        await _host.DisposeAsync();
    }

    [Theory]
    [InlineData("polling")]
    [InlineData("websocket")]
    public async Task Heartbeats_keep_the_session_open(string transport)
    {
        var h = await _node.CallForHandleAsync("eio.open", new { url = _host.Url, opts = new { transports = new[] { transport } } });
        var sid = (await _node.NextEventAsync(h, "open"))!["id"]!.GetValue<string>();
        await Task.Delay(1500); // about seven ping rounds
        Assert.True(_host.IsOpen(sid));
        Assert.DoesNotContain(_node.Drain(h), e => e.Event == "close");
        await _node.CallAsync("eio.send", new { h, data = "after pings" });
        Assert.Equal("after pings", (await _node.NextEventAsync(h, "message"))!.GetValue<string>());
        await _node.CallAsync("eio.close", new { h });
    }
}

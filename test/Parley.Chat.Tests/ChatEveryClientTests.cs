using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Parley.Testing;

namespace Parley.Chat.Tests;

/// <summary>
/// The chat accepts socket.io-client 2.x (Engine.IO v3) and socket.io-msgpack-parser clients by default: a v2
/// client, a msgpack client and a default one in one room see each other's messages, in Node (socket.io-client 2.5.0
/// and 4.8 from npm) and in Chromium (the v2 browser bundle, with the session cookie of the page's own login).
/// </summary>
public sealed class ChatEveryClientTests : IAsyncLifetime
{
    private ChatHost _host = null!;
    private NodeDriver _current = null!;
    private NodeDriver _v2 = null!;

    public async Task InitializeAsync()
    {
        _host = await ChatHost.StartAsync();
        _current = NodeDriver.Start();
        _v2 = NodeDriver.Start("driver-v2.mjs");
    }

    public async Task DisposeAsync()
    {
        await _v2.DisposeAsync();
        await _current.DisposeAsync();
        await _host.DisposeAsync();
    }

    private async Task<string> ConnectAsync(NodeDriver driver, string name, string transport, string? parser = null)
    {
        var cookie = await _host.LoginAsync(name);
        var opts = new JsonObject { ["extraHeaders"] = new JsonObject { ["cookie"] = cookie } };
        if (parser is not null)
        {
            opts["parser"] = parser;
        }
        if (transport != "upgrade")
        {
            opts["transports"] = new JsonArray(transport);
        }
        var h = await driver.CallForHandleAsync("sio.connect", new { url = _host.Url, opts });
        await driver.NextEventAsync(h, "connect");
        Assert.True((await driver.CallAsync("sio.emit", new { h, @event = "join", args = new[] { "old-and-new" }, ack = true, timeout = 10_000 }))!["ok"]!.GetValue<bool>());
        return h;
    }

    [Theory]
    [InlineData("polling")]
    [InlineData("websocket")]
    [InlineData("upgrade")]
    public async Task A_v2_client_a_msgpack_client_and_a_default_client_see_each_others_messages(string transport)
    {
        var old = await ConnectAsync(_v2, "Olga", transport);
        var current = await ConnectAsync(_current, "Cleo", transport);
        var packed = await ConnectAsync(_current, "Mina", transport, parser: "msgpack");

        await _v2.CallAsync("sio.emit", new { h = old, @event = "message", args = new[] { new { room = "old-and-new", text = "from v2" } }, ack = true, timeout = 10_000 });
        await _current.CallAsync("sio.emit", new { h = current, @event = "message", args = new[] { new { room = "old-and-new", text = "from v4" } }, ack = true, timeout = 10_000 });
        await _current.CallAsync("sio.emit", new { h = packed, @event = "message", args = new[] { new { room = "old-and-new", text = "from msgpack" } }, ack = true, timeout = 10_000 });

        foreach (var (driver, h) in new[] { (_v2, old), (_current, current), (_current, packed) })
        {
            var texts = new List<string>();
            while (texts.Count < 3)
            {
                var message = (await driver.NextSocketEventAsync(h, "message"))[0]!;
                texts.Add(message["user"]!.GetValue<string>() + ": " + message["text"]!.GetValue<string>());
            }
            Assert.Equal(["Cleo: from v4", "Mina: from msgpack", "Olga: from v2"], texts.Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task A_page_with_the_v2_browser_bundle_chats_with_a_current_client()
    {
        using var playwright = await Playwright.CreateAsync().WithTimeout();
        var browser = await Chromium.LaunchAsync(playwright);
        try
        {
            var current = await ConnectAsync(_current, "Cleo", "websocket");
            var page = await browser.NewPageAsync();
            // The chat's own page logs in (the session cookie lands in the browser), then the v2 bundle replaces
            // the page's client for a socket of its own.
            await page.GotoAsync(_host.Url + "/").WithTimeout();
            await page.FillAsync("form#login input[name=name]", "Olga").WithTimeout();
            await page.ClickAsync("form#login button[type=submit]").WithTimeout();
            await page.WaitForSelectorAsync("#status.connected").WithTimeout();
            await page.AddScriptTagAsync(new PageAddScriptTagOptions { Path = Path.Combine(RepoPaths.JsDir, "node_modules", "socket.io-client-v2", "dist", "socket.io.js") }).WithTimeout();
            await page.EvaluateAsync("""
                () => new Promise((resolve, reject) => {
                  const socket = io({ forceNew: true, reconnection: false });
                  window.v2Messages = [];
                  socket.on("message", (m) => window.v2Messages.push(m.user + ": " + m.text));
                  socket.on("error", (e) => reject(new Error(String(e))));
                  socket.on("connect", () => socket.emit("join", "old-and-new", (ack) => {
                    window.v2Engine = socket.io.engine;
                    socket.emit("message", { room: "old-and-new", text: "from the v2 bundle" }, () => resolve());
                  }));
                })
                """).WithTimeout();
            Assert.Equal("3", await page.EvaluateAsync<string>("String(window.v2Engine.transport.query.EIO)").WithTimeout());

            var received = (await _current.NextSocketEventAsync(current, "message"))[0]!;
            Assert.Equal("Olga: from the v2 bundle", received["user"]!.GetValue<string>() + ": " + received["text"]!.GetValue<string>());
            await _current.CallAsync("sio.emit", new { h = current, @event = "message", args = new[] { new { room = "old-and-new", text = "from v4" } }, ack = true, timeout = 10_000 });
            await TestTimeouts.Eventually(
                async () => await page.EvaluateAsync<bool>("window.v2Messages.includes('Cleo: from v4')"),
                because: "the v2 page receives the current client's message");
        }
        finally
        {
            await browser.CloseAsync().WithTimeout();
        }
    }
}

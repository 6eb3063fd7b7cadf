using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Parley.Testing;

namespace Parley.Chat.Tests;

[CollectionDefinition(nameof(ChatHostileInputTests), DisableParallelization = true)]
public sealed class HostileInputCollection;

/// <summary>
/// A catalogue of hostile inputs against the chat (socket.io and engine.io advisories, HTTP framing, cookies,
/// cross-site WebSocket, churn), each over polling and WebSocket where it applies. After each case a fresh client
/// logs in and chats, and the log holds no Error entry. Run alone (no other test class logs meanwhile), so that
/// "no Error" means none this case caused.
/// </summary>
[Collection(nameof(ChatHostileInputTests))]
public sealed partial class ChatHostileInputTests : IAsyncLifetime
{
    private ChatHost _host = null!;
    private NodeDriver _node = null!;
    private string _cookie = "";
    private int _logStart;

    // This host's own log: the process-wide TestLog.Provider also gets the lines of every other test's hosts, which
    // run in parallel (a Redis test's failed publishes are not this host's errors).
    private readonly TestLog _log = new();

    public async Task InitializeAsync()
    {
        _host = await ChatHost.StartAsync(b => b.Logging.AddProvider(_log));
        _node = NodeDriver.Start();
        _cookie = await _host.LoginAsync("Mallory");
        _logStart = _log.Entries.Count;
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        await _host.DisposeAsync();
    }

    [GeneratedRegex("\"sid\":\"([^\"]+)\"")]
    private static partial Regex SidPattern();

    public static TheoryData<string, string> Packets => new()
    {
        { "unknown packet type", "47[\"x\"]" },
        { "object as event name (socket.io-parser CVE-2020-36049 family)", "42[{\"toString\":\"x\"}]" },
        { "event named error (CVE-2024-38355)", "42[\"error\",\"boom\"]" },
        { "reserved event name", "42[\"disconnecting\"]" },
        { "placeholder with a forged num (CVE-2022-2421)", "451-[\"message\",{\"_placeholder\":true,\"num\":\"__proto__\"}]" },
        { "more attachments than allowed (CVE-2026-33151)", "4599999-[\"message\"]" },
        { "attachment count without a dash (parser infinite loop, 2015)", "451[\"message\"]" },
        { "JSON nested past the limit", "42[\"message\"," + new string('[', 500) + new string(']', 500) + "]" },
        { "duplicate CONNECT", "40" },
        { "namespace never joined", "42/admin,[\"message\",{\"text\":\"x\"}]" },
        { "message with a non-object payload", "42[\"message\",\"just text\"]" },
        { "join with a number", "420[\"join\",12]" },
        { "lone surrogates everywhere", "421[\"join\",{\"room\":\"\\udc00\\ud800\"}]" },
        { "toServer with an object", "42[\"toServer\",{\"a\":1}]" },
    };

    [Theory]
    [MemberData(nameof(Packets))]
    public async Task Hostile_packets_over_websocket(string what, string frame)
    {
        using var ws = new ClientWebSocket();
        ws.Options.SetRequestHeader("Cookie", _cookie);
        await ws.ConnectAsync(new Uri(_host.Url.Replace("http://", "ws://", StringComparison.Ordinal) + "/socket.io/?EIO=4&transport=websocket"), CancellationToken.None).WithTimeout();
        await ReceiveTextAsync(ws); // open
        await SendTextAsync(ws, "40");
        await ReceiveTextAsync(ws); // connect ack (or a ping first: either way the socket is joining)
        await SendTextAsync(ws, frame);
        await AfterCaseAsync(what);
    }

    [Theory]
    [MemberData(nameof(Packets))]
    public async Task Hostile_packets_over_polling(string what, string frame)
    {
        using var http = Http();
        var sid = await OpenPollingAsync(http);
        await PostAsync(http, sid, "40");
        await PostAsync(http, sid, frame);
        await AfterCaseAsync(what);
    }

    [Fact]
    public async Task Http_framing_and_cookie_attacks()
    {
        using var http = Http();
        // An oversized POST (maxHttpBufferSize, engine.io CVE-2020-36048), an unknown sid, a bad EIO version, a bad transport.
        var sid = await OpenPollingAsync(http);
        var big = await http.PostAsync($"/socket.io/?EIO=4&transport=polling&sid={sid}", new ByteArrayContent(new byte[1_100_000])).WithTimeout();
        Assert.NotEqual(HttpStatusCode.OK, big.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("/socket.io/?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA").WithTimeout()).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("/socket.io/?EIO=9&transport=polling").WithTimeout()).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("/socket.io/?EIO=4&transport=carrier-pigeon").WithTimeout()).StatusCode);

        // Cookies: forged signature, garbage, many cookies, a huge value; each connect is refused with unauthorized.
        foreach (var cookie in new[] { "connect.sid=s%3Aabc.forged", "connect.sid=%ZZ%", string.Join("; ", Enumerable.Range(0, 200).Select(i => $"c{i}=x")), "connect.sid=" + new string('a', 3000) })
        {
            var h = await _node.CallForHandleAsync("sio.connect", new { url = _host.Url, opts = new JsonObject { ["transports"] = new JsonArray("websocket"), ["extraHeaders"] = new JsonObject { ["cookie"] = cookie } } });
            Assert.Equal("unauthorized", (await _node.NextEventAsync(h, "connect_error"))!["message"]!.GetValue<string>());
        }

        // Cross-site WebSocket hijacking: the real cookie from another site's page.
        var hijack = await _node.CallForHandleAsync("sio.connect", new { url = _host.Url, opts = new JsonObject { ["transports"] = new JsonArray("websocket"), ["extraHeaders"] = new JsonObject { ["cookie"] = _cookie, ["origin"] = "http://evil.example" } } });
        Assert.Equal("unauthorized", (await _node.NextEventAsync(hijack, "connect_error"))!["message"]!.GetValue<string>());

        // HTTP framing: a request line with a body length that lies, sent raw, then dropped half way (slowloris-like).
        using (var tcp = new TcpClient())
        {
            var uri = new Uri(_host.Url);
            await tcp.ConnectAsync(uri.Host, uri.Port).WithTimeout();
            var raw = Encoding.ASCII.GetBytes($"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
            await tcp.GetStream().WriteAsync(raw).AsTask().WithTimeout();
        }
        await AfterCaseAsync("HTTP framing and cookies");
    }

    [Fact]
    public async Task A_slow_consumer_is_closed_at_its_outgoing_limit_and_nobody_else_notices()
    {
        var io = _host.App.Services.GetRequiredService<ParleyServer>();
        var limit = io.Options.Engine.MaxOutgoingBufferSize;
        using var slow = new ClientWebSocket();
        slow.Options.SetRequestHeader("Cookie", _cookie);
        await slow.ConnectAsync(new Uri(_host.Url.Replace("http://", "ws://", StringComparison.Ordinal) + "/socket.io/?EIO=4&transport=websocket"), CancellationToken.None).WithTimeout();
        await ReceiveTextAsync(slow); // open
        await SendTextAsync(slow, "40");
        string frame;
        do
        {
            frame = await ReceiveFrameAsync(slow);
        }
        while (!frame.StartsWith("40", StringComparison.Ordinal));
        var id = SidPattern().Match(frame).Groups[1].Value;
        Assert.True(io.Sockets.Sockets.ContainsKey(id));

        // From here the client reads nothing: whatever the room gets piles up for it. Twice its limit, beyond what the
        // kernel's socket buffers can take, must cost it its connection, not the server its memory.
        var chunk = new string('x', 1_000_000);
        for (long sent = 0; sent < 2 * limit && io.Sockets.Sockets.ContainsKey(id); sent += chunk.Length)
        {
            await io.To("chat").EmitAsync("flood", chunk).WithTimeout();
        }
        await TestTimeouts.Eventually(() => !io.Sockets.Sockets.ContainsKey(id), because: "the slow consumer closed");
        await AfterCaseAsync("slow consumer");
    }

    [Fact]
    public async Task Connection_churn()
    {
        for (var i = 0; i < 40; i++)
        {
            var h = await _node.CallForHandleAsync("sio.connect", new { url = _host.Url, opts = new JsonObject { ["transports"] = new JsonArray(i % 2 == 0 ? "websocket" : "polling"), ["extraHeaders"] = new JsonObject { ["cookie"] = _cookie } } });
            if (i % 3 == 0)
            {
                await _node.NextEventAsync(h, "connect");
            }
            await _node.CallAsync("sio.disconnect", new { h });
        }
        await AfterCaseAsync("churn");
    }

    /// <summary>A fresh person logs in and chats, on both transports; nothing at Error in the log since the test began.</summary>
    private async Task AfterCaseAsync(string what)
    {
        foreach (var transport in new[] { "polling", "websocket" })
        {
            var cookie = await _host.LoginAsync("Fresh");
            var h = await _node.CallForHandleAsync("sio.connect", new { url = _host.Url, opts = new JsonObject { ["transports"] = new JsonArray(transport), ["extraHeaders"] = new JsonObject { ["cookie"] = cookie } } });
            await _node.NextEventAsync(h, "connect");
            var ack = await _node.CallAsync("sio.emit", new { h, @event = "message", args = new object[] { new { text = "after " + what } }, ack = true, timeout = 10_000 });
            Assert.True(ack!["ok"]!.GetValue<bool>(), what);
            await _node.CallAsync("sio.disconnect", new { h });
        }
        var errors = _log.Entries.Skip(_logStart).Where(e => e.Level >= LogLevel.Error).Select(e => e.Message).ToList();
        Assert.True(errors.Count == 0, what + ": " + string.Join(" | ", errors));
    }

    private HttpClient Http() => new(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = new Uri(_host.Url), Timeout = TestTimeouts.Default, DefaultRequestHeaders = { { "Cookie", _cookie } } };

    private static async Task<string> OpenPollingAsync(HttpClient http)
    {
        var open = await http.GetStringAsync("/socket.io/?EIO=4&transport=polling").WithTimeout();
        return SidPattern().Match(open).Groups[1].Value;
    }

    private static async Task PostAsync(HttpClient http, string sid, string text) =>
        await http.PostAsync($"/socket.io/?EIO=4&transport=polling&sid={sid}", new StringContent(text)).WithTimeout();

    private static async Task ReceiveTextAsync(ClientWebSocket ws)
    {
        var buffer = new byte[8192];
        await ws.ReceiveAsync(buffer, CancellationToken.None).WithTimeout();
    }

    private static async Task<string> ReceiveFrameAsync(ClientWebSocket ws)
    {
        var buffer = new byte[8192];
        var result = await ws.ReceiveAsync(buffer, CancellationToken.None).WithTimeout();
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }

    private static Task SendTextAsync(ClientWebSocket ws, string text) =>
        ws.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None).WithTimeout();
}

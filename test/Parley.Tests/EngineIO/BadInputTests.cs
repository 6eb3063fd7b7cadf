using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.RegularExpressions;
using Parley.EngineIO;
using Parley.Testing;

namespace Parley.Tests.EngineIO;

/// <summary>
/// Every bad input of issue 2 (reference/anchors.md §3.2): each gets the protocol's answer and a log line, and a
/// session opened before it on the same server still echoes afterwards.
/// </summary>
public sealed partial class BadInputTests : IAsyncLifetime
{
    private EchoHost _host = null!;
    private HealthySession _healthy = null!;

    public async Task InitializeAsync()
    {
        var options = EchoHost.CalmOptions();
        options.MaxHttpBufferSize = 10_000;
        options.MaxWebSocketFragments = 16;
        options.UpgradeTimeout = TimeSpan.FromSeconds(2);
        _host = await EchoHost.StartAsync(options);
        _healthy = await _host.OpenHealthySessionAsync();
    }

    public async Task DisposeAsync()
    {
        await _healthy.DisposeAsync();
        await _host.DisposeAsync();
    }

    [GeneratedRegex("\"sid\":\"([^\"]+)\"")]
    private static partial Regex SidPattern();

    private static void AssertWebSocketRefusal(string response, string message)
    {
        var lines = response.Split("\r\n");
        Assert.Equal("HTTP/1.1 400 Bad Request", lines[0]);
        Assert.Contains(lines, l => l.Equals("Connection: close", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(lines, l => l.Equals("Content-Type: text/html", StringComparison.OrdinalIgnoreCase));
        Assert.EndsWith("\r\n\r\n" + message, response, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("__proto__")]
    [InlineData("constructor")]
    [InlineData("hasOwnProperty")]
    public async Task Prototype_transport_names_are_unknown_transports(string transport)
    {
        var (status, body) = await _host.GetAsync($"/engine.io/?EIO=4&transport={transport}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("{\"code\":0,\"message\":\"Transport unknown\"}", body);
        var (_, sid) = await _host.OpenPollingAsync() is var open ? (0, open.Sid) : default;
        Assert.Equal("{\"code\":0,\"message\":\"Transport unknown\"}", (await _host.GetAsync($"/engine.io/?EIO=4&transport={transport}&sid={sid}")).Body);
        AssertWebSocketRefusal(await _host.RawHttpAsync(EchoHost.UpgradeRequest($"/engine.io/?EIO=4&transport={transport}", _host.Host.Port)), "Transport unknown");
        await LogAssert.Logged("refused with code 0", transport);
        await _healthy.AssertEchoesAsync();
    }

    [Theory]
    [InlineData("")]
    [InlineData("EIO=abc&")]
    [InlineData("EIO=3&")]
    [InlineData("EIO=__proto__&")]
    public async Task Missing_or_bad_EIO_is_refused_on_both_transports(string eio)
    {
        var (status, body) = await _host.GetAsync($"/engine.io/?{eio}transport=polling");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("{\"code\":5,\"message\":\"Unsupported protocol version\"}", body);
        AssertWebSocketRefusal(await _host.RawHttpAsync(EchoHost.UpgradeRequest($"/engine.io/?{eio}transport=websocket", _host.Host.Port)), "Unsupported protocol version");
        await LogAssert.Logged("refused with code 5");
        await _healthy.AssertEchoesAsync();
    }

    [Fact]
    public async Task Unknown_sid_is_refused_on_both_transports()
    {
        const string sid = "unknown-sid-0123456789";
        var (status, body) = await _host.PollAsync(sid);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("{\"code\":1,\"message\":\"Session ID unknown\"}", body);
        Assert.Equal(HttpStatusCode.BadRequest, (await _host.PostAsync(sid, "4x")).Status);
        AssertWebSocketRefusal(await _host.RawHttpAsync(EchoHost.UpgradeRequest($"/engine.io/?EIO=4&transport=websocket&sid={sid}", _host.Host.Port)), "Session ID unknown");
        await LogAssert.Logged("refused with code 1", sid);
        await _healthy.AssertEchoesAsync();
    }

    [Fact]
    public async Task Duplicate_polls_close_the_session()
    {
        var (sid, _) = await _host.OpenPollingAsync();
        var first = _host.PollAsync(sid);
        await TestTimeouts.Eventually(() => _host.Connections[sid].IsWritable, because: "first poll pending");
        Assert.Equal(HttpStatusCode.BadRequest, (await _host.PollAsync(sid)).Status);
        Assert.Equal((HttpStatusCode.OK, "1"), await first.WithTimeout());
        Assert.Equal("transport error", await _host.ClosedReason(sid));
        await LogAssert.Logged(sid, "overlapping poll");
        await _healthy.AssertEchoesAsync();
    }

    [Fact]
    public async Task Overlapping_posts_close_the_session()
    {
        var (sid, _) = await _host.OpenPollingAsync();
        // The first POST announces 100 bytes and sends 5: it stays in progress on the server.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _host.Host.Port).WithTimeout();
        var partial = $"POST {EchoHost.PollingPath(sid)} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n4abcd";
        await tcp.GetStream().WriteAsync(Encoding.ASCII.GetBytes(partial)).AsTask().WithTimeout();
        await TestTimeouts.Eventually(() => _host.Connections[sid].IsReceivingPost, because: "the first POST is being read");
        var (status, _) = await _host.PostAsync(sid, "4second");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("transport error", await _host.ClosedReason(sid));
        await LogAssert.Logged(sid, "overlapping POST");
        await _healthy.AssertEchoesAsync();
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("")]
    [InlineData("4ok\x1e")]
    [InlineData("4ok\u001e9nope")]
    [InlineData("\x1e\x1e")]
    [InlineData("b!!!not-base64")]
    public async Task Malformed_payloads_get_400_and_close_the_session(string payload)
    {
        var (sid, _) = await _host.OpenPollingAsync();
        Assert.Equal(HttpStatusCode.BadRequest, (await _host.PostAsync(sid, payload)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await _host.PollAsync(sid)).Status);
        Assert.Equal("parse error", await _host.ClosedReason(sid));
        await LogAssert.Logged(sid, "malformed polling payload");
        await _healthy.AssertEchoesAsync();
    }

    [Fact]
    public async Task Binary_content_type_on_a_v4_post_is_refused()
    {
        var (sid, _) = await _host.OpenPollingAsync();
        Assert.Equal(HttpStatusCode.BadRequest, (await _host.PostAsync(sid, "4hello", "application/octet-stream")).Status);
        Assert.Equal("transport error", await _host.ClosedReason(sid));
        await LogAssert.Logged(sid, "binary content-type");
        await _healthy.AssertEchoesAsync();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Post_over_maxHttpBufferSize_gets_413(bool withContentLength)
    {
        var (sid, _) = await _host.OpenPollingAsync();
        var payload = "4" + new string('x', 20_000);
        HttpContent content = withContentLength
            ? new StringContent(payload)
            : new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(payload))); // chunked: no length up front
        using (content)
        {
            using var response = await _host.Http.PostAsync(EchoHost.PollingPath(sid), content).WithTimeout();
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }
        Assert.Equal("transport error", await _host.ClosedReason(sid));
        await LogAssert.Logged(sid, "over maxHttpBufferSize");
        await _healthy.AssertEchoesAsync();
    }

    [Fact]
    public async Task WebSocket_message_over_the_limit_is_closed_with_1009()
    {
        var (ws, sid) = await _host.OpenWebSocketAsync();
        await using var _ws = ws;
        await ws.SendTextAsync("4" + new string('x', 20_000));
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await ws.WaitForCloseAsync());
        Assert.Equal("transport error", await _host.ClosedReason(sid));
        await LogAssert.Logged(sid, "WebSocket message over maxHttpBufferSize");
        await _healthy.AssertEchoesAsync();
    }

    [Fact]
    public async Task WebSocket_message_at_the_limit_is_accepted()
    {
        var (ws, _) = await _host.OpenWebSocketAsync();
        await using var _ws = ws;
        var text = "4" + new string('y', 9_999);
        await ws.SendTextAsync(text);
        Assert.Equal(text, await ws.ReceiveTextAsync(skipPings: true));
    }

    [Fact]
    public async Task A_flood_of_tiny_fragments_is_closed_with_1008()
    {
        var (ws, sid) = await _host.OpenWebSocketAsync();
        await using var _ws = ws;
        var one = "x"u8.ToArray();
        await ws.Socket.SendAsync("4"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: false, CancellationToken.None).WithTimeout();
        try
        {
            for (var i = 0; i < 200; i++)
            {
                await ws.Socket.SendAsync(one, WebSocketMessageType.Text, endOfMessage: false, CancellationToken.None).WithTimeout();
                await Task.Yield();
            }
        }
        catch (WebSocketException)
        {
            // the server may have closed already
        }
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await ws.WaitForCloseAsync());
        Assert.Equal("transport error", await _host.ClosedReason(sid));
        await LogAssert.Logged(sid, "too many WebSocket fragments");
        await _healthy.AssertEchoesAsync();
    }

    [Fact]
    public async Task A_few_fragments_make_one_message()
    {
        var (ws, _) = await _host.OpenWebSocketAsync();
        await using var _ws = ws;
        foreach (var part in new[] { "4he", "l", "l" })
        {
            await ws.Socket.SendAsync(Encoding.UTF8.GetBytes(part), WebSocketMessageType.Text, endOfMessage: false, CancellationToken.None).WithTimeout();
        }
        await ws.Socket.SendAsync("o"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).WithTimeout();
        Assert.Equal("4hello", await ws.ReceiveTextAsync(skipPings: true));
    }

    [Fact]
    public async Task Garbage_after_a_websocket_upgrade_drops_that_connection()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _host.Host.Port).WithTimeout();
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(EchoHost.UpgradeRequest("/engine.io/?EIO=4&transport=websocket", _host.Host.Port))).AsTask().WithTimeout();
        var received = new StringBuilder();
        var buffer = new byte[4096];
        while (!SidPattern().IsMatch(received.ToString()))
        {
            var n = await stream.ReadAsync(buffer).AsTask().WithTimeout();
            Assert.NotEqual(0, n);
            received.Append(Encoding.Latin1.GetString(buffer, 0, n));
        }
        Assert.StartsWith("HTTP/1.1 101", received.ToString(), StringComparison.Ordinal);
        var sid = SidPattern().Match(received.ToString()).Groups[1].Value;

        // RSV1-3 set on an unmasked frame, then text: not a valid client frame.
        await stream.WriteAsync(new byte[] { 0xF1, 0x04 }.Concat("test"u8.ToArray()).ToArray()).AsTask().WithTimeout();
        Assert.Equal("transport error", await _host.ClosedReason(sid));
        // The server drops the TCP connection (a close frame at most, then EOF or reset).
        using var cts = new CancellationTokenSource(TestTimeouts.Default);
        try
        {
            while (await stream.ReadAsync(buffer, cts.Token) > 0)
            {
            }
        }
        catch (IOException)
        {
        }
        await LogAssert.Logged(sid, "transport failed");
        await _healthy.AssertEchoesAsync();
    }

    [Fact]
    public async Task A_client_that_vanishes_mid_upgrade_leaves_the_polling_session_usable()
    {
        var (sid, _) = await _host.OpenPollingAsync();
        var ws = await _host.ConnectWebSocketAsync(sid);
        await ws.SendTextAsync("2probe");
        Assert.Equal("3probe", await ws.ReceiveTextAsync());
        ws.Socket.Abort(); // the TCP connection goes away with no close frame
        await LogAssert.Logged(sid, "upgrade failed");

        // Polling goes on as before, and a later upgrade works.
        Assert.True(_host.IsOpen(sid));
        Assert.Equal((HttpStatusCode.OK, "ok"), await _host.PostAsync(sid, "4after"));
        Assert.Equal((HttpStatusCode.OK, "4after"), await _host.PollAsync(sid));
        await using var again = await _host.ConnectWebSocketAsync(sid);
        await again.SendTextAsync("2probe");
        Assert.Equal("3probe", await again.ReceiveTextAsync());
        await again.SendTextAsync("5");
        await again.SendTextAsync("4upgraded");
        Assert.Equal("4upgraded", await again.ReceiveTextAsync(skipPings: true));
        await _healthy.AssertEchoesAsync();
    }

    [Fact]
    public async Task An_upgrade_that_never_commits_times_out_and_polling_goes_on()
    {
        var (sid, _) = await _host.OpenPollingAsync();
        await using var ws = await _host.ConnectWebSocketAsync(sid);
        await ws.SendTextAsync("2probe");
        Assert.Equal("3probe", await ws.ReceiveTextAsync());
        await ws.WaitForCloseAsync(TimeSpan.FromSeconds(10)); // UpgradeTimeout is 2 s here
        await LogAssert.Logged(sid, "upgrade timeout");
        Assert.Equal((HttpStatusCode.OK, "ok"), await _host.PostAsync(sid, "4still"));
        Assert.Equal((HttpStatusCode.OK, "4still"), await _host.PollAsync(sid));
    }

    [Fact]
    public async Task A_pending_poll_whose_client_disconnects_closes_the_session()
    {
        var (sid, _) = await _host.OpenPollingAsync();
        var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _host.Host.Port).WithTimeout();
        await tcp.GetStream().WriteAsync(Encoding.ASCII.GetBytes($"GET {EchoHost.PollingPath(sid)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")).AsTask().WithTimeout();
        await TestTimeouts.Eventually(() => _host.Connections[sid].IsWritable, because: "poll pending");
        tcp.Dispose();
        Assert.Equal("transport error", await _host.ClosedReason(sid));
        await _healthy.AssertEchoesAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_post_cut_short_closes_the_session_and_is_logged(bool reset)
    {
        var (sid, _) = await _host.OpenPollingAsync();
        var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _host.Host.Port).WithTimeout();
        await tcp.GetStream().WriteAsync(Encoding.ASCII.GetBytes(
            $"POST {EchoHost.PollingPath(sid)} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n4only part of it")).AsTask().WithTimeout();
        await TestTimeouts.Eventually(() => _host.Connections[sid].IsReceivingPost, because: "the server is reading the body");
        if (reset)
        {
            tcp.Client.LingerState = new LingerOption(true, 0); // closing sends a RST
            tcp.Dispose();
        }
        else
        {
            tcp.Client.Shutdown(SocketShutdown.Send); // a FIN: the body ends short of its Content-Length
        }
        try
        {
            Assert.Equal("transport error", await _host.ClosedReason(sid));
            await LogAssert.Logged(sid, "data request connection closed prematurely");
        }
        finally
        {
            tcp.Dispose();
        }
        await _healthy.AssertEchoesAsync();
    }

    [Theory]
    [InlineData("2")]
    [InlineData("0{}")]
    public async Task Client_ping_or_open_packets_close_the_websocket(string packet)
    {
        var (ws, sid) = await _host.OpenWebSocketAsync();
        await using var _ws = ws;
        await ws.SendTextAsync(packet);
        await ws.WaitForCloseAsync();
        Assert.NotNull(await _host.ClosedReason(sid));
        await LogAssert.Logged(sid, "bad packet");
        await _healthy.AssertEchoesAsync();
    }

    [Fact]
    public async Task Unexpected_packet_during_the_probe_drops_only_the_new_transport()
    {
        var (sid, _) = await _host.OpenPollingAsync();
        await using var ws = await _host.ConnectWebSocketAsync(sid);
        await ws.SendTextAsync("4not-a-probe");
        await ws.WaitForCloseAsync();
        await LogAssert.Logged(sid, "unexpected packet during upgrade");
        Assert.Equal((HttpStatusCode.OK, "ok"), await _host.PostAsync(sid, "4fine"));
        Assert.Equal((HttpStatusCode.OK, "4fine"), await _host.PollAsync(sid));
    }
}

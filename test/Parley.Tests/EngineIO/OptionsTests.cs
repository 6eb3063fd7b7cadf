using System.IO.Compression;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Parley.EngineIO;
using Parley.Protocol.EngineIO;
using Parley.Testing;

namespace Parley.Tests.EngineIO;

/// <summary>The Engine.IO options, each on its own server.</summary>
public sealed class OptionsTests
{
    private static async Task<EchoHost> StartAsync(Action<EngineOptions> configure)
    {
        var options = EchoHost.CalmOptions();
        configure(options);
        return await EchoHost.StartAsync(options);
    }

    [Fact]
    public async Task AllowRequest_refusal_is_403_on_polling_and_a_refusal_on_websocket()
    {
        await using var host = await StartAsync(o => o.AllowRequest = ctx =>
            ValueTask.FromResult(ctx.Request.Query["token"] == "letmein" ? RequestVerdict.Allow : RequestVerdict.Deny("no token, no entry")));

        using (var response = await host.Http.GetAsync("/engine.io/?EIO=4&transport=polling").WithTimeout())
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("{\"code\":4,\"message\":\"no token, no entry\"}", await response.Content.ReadAsStringAsync().WithTimeout());
        }
        var ws = await host.RawHttpAsync(EchoHost.UpgradeRequest("/engine.io/?EIO=4&transport=websocket", host.Host.Port));
        Assert.StartsWith("HTTP/1.1 400 Bad Request", ws, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\nno token, no entry", ws, StringComparison.Ordinal);
        await LogAssert.Logged("refused with code 4", "no token, no entry");

        var (status, body) = await host.GetAsync("/engine.io/?EIO=4&transport=polling&token=letmein");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("0{", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AllowRequest_that_throws_is_a_refusal_and_is_logged()
    {
        await using var host = await StartAsync(o => o.AllowRequest = _ => throw new InvalidOperationException("allowRequest blew up"));
        var (status, body) = await host.GetAsync("/engine.io/?EIO=4&transport=polling");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("{\"code\":4,\"message\":\"Forbidden\"}", body);
        Assert.Contains(TestLog.Provider.Entries, e => e.Exception?.Message == "allowRequest blew up");
    }

    [Fact]
    public async Task Cors_headers_and_preflight()
    {
        await using var host = await StartAsync(o => o.Cors = new EngineCorsOptions
        {
            Origins = ["https://chat.example"],
            AllowCredentials = true,
            MaxAge = TimeSpan.FromMinutes(10),
        });

        using (var preflight = new HttpRequestMessage(HttpMethod.Options, EchoHost.PollingPath()))
        {
            preflight.Headers.Add("Origin", "https://chat.example");
            preflight.Headers.Add("Access-Control-Request-Method", "POST");
            preflight.Headers.Add("Access-Control-Request-Headers", "content-type");
            using var response = await host.Http.SendAsync(preflight).WithTimeout();
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            Assert.Equal("https://chat.example", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.Equal("true", response.Headers.GetValues("Access-Control-Allow-Credentials").Single());
            Assert.Equal("GET,POST", response.Headers.GetValues("Access-Control-Allow-Methods").Single());
            Assert.Equal("content-type", response.Headers.GetValues("Access-Control-Allow-Headers").Single());
            Assert.Equal("600", response.Headers.GetValues("Access-Control-Max-Age").Single());
        }

        using (var get = new HttpRequestMessage(HttpMethod.Get, EchoHost.PollingPath()))
        {
            get.Headers.Add("Origin", "https://chat.example");
            using var response = await host.Http.SendAsync(get).WithTimeout();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("https://chat.example", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.Contains("Origin", response.Headers.Vary);
        }

        using (var other = new HttpRequestMessage(HttpMethod.Get, EchoHost.PollingPath()))
        {
            other.Headers.Add("Origin", "https://evil.example");
            using var response = await host.Http.SendAsync(other).WithTimeout();
            Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        }
    }

    [Fact]
    public async Task Cors_is_off_by_default()
    {
        await using var host = await StartAsync(_ => { });
        using var get = new HttpRequestMessage(HttpMethod.Get, EchoHost.PollingPath());
        get.Headers.Add("Origin", "https://chat.example");
        using var response = await host.Http.SendAsync(get).WithTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Cookie_option_sets_io_to_the_sid()
    {
        await using var host = await StartAsync(o => o.Cookie = new EngineCookieOptions());
        using var response = await host.Http.GetAsync(EchoHost.PollingPath()).WithTimeout();
        var body = await response.Content.ReadAsStringAsync().WithTimeout();
        var sid = JsonDocument.Parse(body[1..]).RootElement.GetProperty("sid").GetString();
        var cookie = response.Headers.GetValues("Set-Cookie").Single();
        Assert.StartsWith($"io={sid};", cookie, StringComparison.Ordinal);
        Assert.Contains("path=/", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);

        await using var plain = await StartAsync(_ => { });
        using var noCookie = await plain.Http.GetAsync(EchoHost.PollingPath()).WithTimeout();
        Assert.False(noCookie.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task Large_polling_responses_are_gzipped_small_ones_are_not()
    {
        await using var host = await StartAsync(o => o.HttpCompression = true);
        var (sid, _) = await host.OpenPollingAsync();
        var big = new string('z', 5000) + "\u00e9";
        host.Connections[sid].Send(EnginePacket.Message(big));

        using (var request = new HttpRequestMessage(HttpMethod.Get, EchoHost.PollingPath(sid)))
        {
            request.Headers.Add("Accept-Encoding", "gzip, deflate");
            using var response = await host.Http.SendAsync(request).WithTimeout();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(["gzip"], response.Content.Headers.ContentEncoding);
            var compressed = await response.Content.ReadAsByteArrayAsync().WithTimeout();
            Assert.True(compressed.Length < 1000, $"compressed to {compressed.Length} bytes");
            using var gzip = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
            using var reader = new StreamReader(gzip);
            Assert.Equal("4" + big, await reader.ReadToEndAsync().WithTimeout());
        }

        host.Connections[sid].Send(EnginePacket.Message("small"));
        using (var request = new HttpRequestMessage(HttpMethod.Get, EchoHost.PollingPath(sid)))
        {
            request.Headers.Add("Accept-Encoding", "gzip");
            using var response = await host.Http.SendAsync(request).WithTimeout();
            Assert.Empty(response.Content.Headers.ContentEncoding);
            Assert.Equal("4small", await response.Content.ReadAsStringAsync().WithTimeout());
        }

        // No Accept-Encoding: never compressed.
        host.Connections[sid].Send(EnginePacket.Message(big));
        using (var response = await host.Http.GetAsync(EchoHost.PollingPath(sid)).WithTimeout())
        {
            Assert.Empty(response.Content.Headers.ContentEncoding);
            Assert.Equal("4" + big, await response.Content.ReadAsStringAsync().WithTimeout());
        }
    }

    [Fact]
    public async Task PerMessageDeflate_is_negotiated_when_on()
    {
        await using var host = await StartAsync(o => o.PerMessageDeflate = true);
        await using var ws = await host.ConnectWebSocketAsync(configure: o => o.DangerousDeflateOptions = new WebSocketDeflateOptions());
        Assert.Contains("permessage-deflate", ws.Socket.HttpResponseHeaders!["Sec-WebSocket-Extensions"].Single(), StringComparison.Ordinal);
        Assert.StartsWith("0{", await ws.ReceiveTextAsync(), StringComparison.Ordinal);
        var text = "4" + string.Concat(Enumerable.Repeat("compress me ", 500));
        await ws.SendTextAsync(text);
        Assert.Equal(text, await ws.ReceiveTextAsync(skipPings: true));
    }

    [Fact]
    public async Task PerMessageDeflate_is_off_by_default()
    {
        await using var host = await StartAsync(_ => { });
        await using var ws = await host.ConnectWebSocketAsync(configure: o => o.DangerousDeflateOptions = new WebSocketDeflateOptions());
        Assert.False(ws.Socket.HttpResponseHeaders!.ContainsKey("Sec-WebSocket-Extensions"));
        Assert.StartsWith("0{", await ws.ReceiveTextAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WebSocket_only_transports_refuse_polling()
    {
        await using var host = await StartAsync(o => o.Transports = [EngineTransport.WebSocket]);
        var (status, body) = await host.GetAsync(EchoHost.PollingPath());
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("{\"code\":0,\"message\":\"Transport unknown\"}", body);
        var (ws, _) = await host.OpenWebSocketAsync();
        await using var _ws = ws;
        await ws.SendTextAsync("4ws only");
        Assert.Equal("4ws only", await ws.ReceiveTextAsync(skipPings: true));
    }

    [Fact]
    public async Task AllowUpgrades_false_offers_no_upgrade_and_refuses_one()
    {
        await using var host = await StartAsync(o => o.AllowUpgrades = false);
        var (sid, handshake) = await host.OpenPollingAsync();
        Assert.Equal(0, handshake.GetProperty("upgrades").GetArrayLength());
        await using var ws = await host.ConnectWebSocketAsync(sid);
        await ws.WaitForCloseAsync();
        await LogAssert.Logged(sid, "WebSocket for a session already upgraded or upgrading");
        Assert.Equal((HttpStatusCode.OK, "ok"), await host.PostAsync(sid, "4still polling"));
        Assert.Equal((HttpStatusCode.OK, "4still polling"), await host.PollAsync(sid));
    }

    [Fact]
    public async Task MaxOutgoingBufferSize_closes_a_client_that_never_polls()
    {
        await using var host = await StartAsync(o => o.MaxOutgoingBufferSize = 20_000);
        await using var healthy = await host.OpenHealthySessionAsync();
        var (sid, _) = await host.OpenPollingAsync();
        var connection = host.Connections[sid];
        var packet = EnginePacket.Message(new string('q', 1000));
        var sent = 0;
        while (sent < 1000 && connection.Send(packet))
        {
            sent++;
        }
        Assert.InRange(sent, 15, 25);
        Assert.Equal("transport error", await host.ClosedReason(sid));
        await LogAssert.Logged(sid, "outgoing buffer over 20000 bytes");
        Assert.Equal(HttpStatusCode.BadRequest, (await host.PollAsync(sid)).Status);
        await healthy.AssertEchoesAsync();
    }

    [Fact]
    public async Task MaxOutgoingBufferSize_gives_back_what_a_websocket_writer_has_written()
    {
        // 200 KB go through a 20 KB limit one frame at a time, each read before the next is sent: every written
        // batch must give its bytes back, or the 21st frame would close the connection.
        await using var host = await StartAsync(o => o.MaxOutgoingBufferSize = 20_000);
        var (ws, sid) = await host.OpenWebSocketAsync();
        await using var _ws = ws;
        var connection = host.Connections[sid];
        var text = new string('q', 1000);
        var packet = EnginePacket.Message(text);
        for (var i = 0; i < 200; i++)
        {
            Assert.True(connection.Send(packet), $"frame {i} refused");
            Assert.Equal("4" + text, await ws.ReceiveTextAsync(skipPings: true));
        }
        Assert.Equal(EngineConnectionState.Open, connection.State);
    }

    [Fact]
    public async Task MaxOutgoingBufferSize_counts_what_a_stalled_websocket_writer_holds()
    {
        // 64 MB limit; frames share their arrays, so the test itself holds little. The client's receive window is
        // tiny and it stops reading: the kernel takes a few MB at most, the server holds the rest.
        const int limit = 64_000_000;
        await using var host = await StartAsync(o =>
        {
            o.MaxOutgoingBufferSize = limit;
            o.PingInterval = TimeSpan.FromSeconds(60);
            o.PingTimeout = TimeSpan.FromSeconds(60);
        });
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { ReceiveBufferSize = 16 * 1024 };
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        };
        using var invoker = new HttpMessageInvoker(handler);
        var client = new ClientWebSocket();
        await client.ConnectAsync(new Uri(host.WsUrl + EchoHost.PollingPath(transport: "websocket")), invoker, CancellationToken.None).WithTimeout();
        await using var ws = new RawWebSocket(client);
        var sid = JsonDocument.Parse((await ws.ReceiveTextAsync())[1..]).RootElement.GetProperty("sid").GetString()!;
        var connection = host.Connections[sid];
        var megabyte = EnginePacket.Binary(new byte[1_000_000]);

        // The writer takes an 8 MB frame and stalls on it; 56 MB queue up behind it.
        Assert.True(connection.Send(EnginePacket.Binary(new byte[8_000_000])));
        await Task.Delay(300);
        for (var i = 0; i < 56; i++)
        {
            Assert.True(connection.Send(megabyte));
        }
        // The client reads the 8 MB frame, then stops: the writer takes the 56 MB batch and stalls again within it.
        Assert.Equal(8_000_000, (await ws.ReceiveAsync()).Data.Length);
        await Task.Delay(300);

        // The batch still counts: only the few MB the kernel took are free. Had the writer's batch stopped
        // counting, another 64 MB would be accepted and the connection would hold twice its limit.
        var accepted = 0;
        while (accepted < 100 && connection.Send(megabyte))
        {
            accepted++;
        }
        Assert.InRange(accepted, 0, 20);
        Assert.Equal("transport error", await host.ClosedReason(sid));
        await LogAssert.Logged(sid, "outgoing buffer over");
    }
}

/// <summary>Stopping the host closes every open connection cleanly.</summary>
public sealed class ShutdownTests
{
    [Fact]
    public async Task Server_shutdown_closes_open_connections()
    {
        var host = await EchoHost.StartAsync(EchoHost.CalmOptions());
        var disposed = false;
        try
        {
            var (ws, wsSid) = await host.OpenWebSocketAsync();
            await using var _ws = ws;
            var (pollSid, _) = await host.OpenPollingAsync();
            var poll = host.PollAsync(pollSid);
            await TestTimeouts.Eventually(() => host.Connections[pollSid].IsWritable, because: "poll pending");
            await using var node = NodeDriver.Start();
            var h = await node.CallForHandleAsync("eio.open", new { url = host.Url, opts = new { transports = new[] { "websocket" } } });
            var nodeSid = (await node.NextEventAsync(h, "open"))!["id"]!.GetValue<string>();

            var stop = host.Host.App.StopAsync();
            Assert.Equal(WebSocketCloseStatus.NormalClosure, await ws.WaitForCloseAsync());
            Assert.Equal((HttpStatusCode.OK, "1"), await poll.WithTimeout());
            Assert.Equal("transport close", (await node.NextEventAsync(h, "close"))!["reason"]!.GetValue<string>());
            await stop.WithTimeout(TimeSpan.FromSeconds(10));
            foreach (var sid in new[] { wsSid, pollSid, nodeSid })
            {
                Assert.Equal("server shutting down", await host.ClosedReason(sid));
            }
            await host.DisposeAsync();
            disposed = true;
        }
        finally
        {
            if (!disposed)
            {
                await host.DisposeAsync();
            }
        }
    }
}

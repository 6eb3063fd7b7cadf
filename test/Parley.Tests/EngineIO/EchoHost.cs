using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Parley.EngineIO;
using Parley.Protocol.EngineIO;
using Parley.Testing;

namespace Parley.Tests.EngineIO;

/// <summary>
/// A raw Engine.IO echo server (what samples/Conformance runs) on a TestWebHost, plus raw HTTP and WebSocket helpers
/// that speak the protocol by hand, as the official engine.io-protocol suite does.
/// </summary>
public sealed class EchoHost : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _closed = new(StringComparer.Ordinal);

    private EchoHost(TestWebHost host, EngineOptions options)
    {
        Host = host;
        Options = options;
        Http = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None, PooledConnectionLifetime = TimeSpan.FromSeconds(30) })
        {
            BaseAddress = host.BaseUri,
            Timeout = TestTimeouts.Default,
        };
    }

    public TestWebHost Host { get; }

    public EngineOptions Options { get; }

    public HttpClient Http { get; }

    /// <summary>Every connection the server opened, by sid.</summary>
    public ConcurrentDictionary<string, EngineConnection> Connections { get; } = new(StringComparer.Ordinal);

    public string Url => Host.Url;

    public string WsUrl => "ws://127.0.0.1:" + Host.Port;

    /// <summary>The suite's settings (pingInterval 300, pingTimeout 200, maxPayload 1e6) unless changed.</summary>
    public static EngineOptions SuiteOptions() => new()
    {
        PingInterval = TimeSpan.FromMilliseconds(300),
        PingTimeout = TimeSpan.FromMilliseconds(200),
        MaxHttpBufferSize = 1_000_000,
        Cors = new EngineCorsOptions { Origins = ["*"] },
    };

    /// <summary>Slow heartbeats, for tests where sessions must outlive a few seconds of idleness.</summary>
    public static EngineOptions CalmOptions() => new()
    {
        PingInterval = TimeSpan.FromSeconds(10),
        PingTimeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>
    /// Starts an echo server. With <paramref name="corked"/> (the default) the pipeline is AddParley's: WebSockets run
    /// over a CorkedStream that writes a batch of frames at once; without it, over ASP.NET Core's stream, frame by frame.
    /// </summary>
    public static async Task<EchoHost> StartAsync(EngineOptions? options = null, Action<EngineConnection>? onConnection = null, bool corked = true)
    {
        options ??= SuiteOptions();
        EchoHost? self = null;
        var host = await TestWebHost.StartAsync(_ => { }, app =>
        {
            if (corked)
            {
                app.Use(CorkingUpgradeFeature.InvokeAsync);
            }
            app.UseWebSockets();
            app.MapEngineIO("/engine.io", options, connection =>
            {
                self!.Connections[connection.Id] = connection;
                var closed = self._closed.GetOrAdd(connection.Id, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
                connection.Closed = (_, reason) => closed.TrySetResult(reason);
                connection.MessageReceived = static (c, message) =>
                    c.Send(message.IsBinary
                        ? EnginePacket.Binary(message.Data.ToArray())
                        : EnginePacket.Text(EnginePacketType.Message, message.Data));
                onConnection?.Invoke(connection);
            });
        });
        self = new EchoHost(host, options);
        return self;
    }

    /// <summary>The reason the server gave when it closed connection <paramref name="sid"/>.</summary>
    public Task<string> ClosedReason(string sid) =>
        _closed.GetOrAdd(sid, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task.WithTimeout();

    public bool IsOpen(string sid) => Connections.TryGetValue(sid, out var c) && c.State != EngineConnectionState.Closed;

    // ---- HTTP long-polling, by hand ----

    public static string PollingPath(string? sid = null, string eio = "4", string transport = "polling") =>
        $"/engine.io/?EIO={eio}&transport={transport}" + (sid is null ? "" : "&sid=" + sid);

    /// <summary>Opens a polling session; returns the sid and the handshake JSON.</summary>
    public async Task<(string Sid, JsonElement Handshake)> OpenPollingAsync()
    {
        using var response = await Http.GetAsync(PollingPath()).WithTimeout();
        var body = await response.Content.ReadAsStringAsync().WithTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("0", body, StringComparison.Ordinal);
        var json = JsonDocument.Parse(body[1..]).RootElement.Clone();
        return (json.GetProperty("sid").GetString()!, json);
    }

    public async Task<(HttpStatusCode Status, string Body)> GetAsync(string pathAndQuery)
    {
        using var response = await Http.GetAsync(pathAndQuery).WithTimeout();
        return (response.StatusCode, await response.Content.ReadAsStringAsync().WithTimeout());
    }

    public Task<(HttpStatusCode Status, string Body)> PollAsync(string sid) => GetAsync(PollingPath(sid));

    public async Task<(HttpStatusCode Status, string Body)> PostAsync(string sid, string payload, string contentType = "text/plain;charset=UTF-8")
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(payload));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        using var response = await Http.PostAsync(PollingPath(sid), content).WithTimeout();
        return (response.StatusCode, await response.Content.ReadAsStringAsync().WithTimeout());
    }

    // ---- WebSocket, by hand ----

    public async Task<RawWebSocket> ConnectWebSocketAsync(string? sid = null, Action<ClientWebSocketOptions>? configure = null)
    {
        var ws = new ClientWebSocket();
        ws.Options.CollectHttpResponseDetails = true;
        configure?.Invoke(ws.Options);
        var uri = new Uri(WsUrl + PollingPath(sid, transport: "websocket"));
        await ws.ConnectAsync(uri, CancellationToken.None).WithTimeout();
        return new RawWebSocket(ws);
    }

    /// <summary>Opens a WebSocket-only session and reads its open packet.</summary>
    public async Task<(RawWebSocket Ws, string Sid)> OpenWebSocketAsync()
    {
        var ws = await ConnectWebSocketAsync();
        var open = await ws.ReceiveTextAsync();
        Assert.StartsWith("0", open, StringComparison.Ordinal);
        var sid = JsonDocument.Parse(open[1..]).RootElement.GetProperty("sid").GetString()!;
        return (ws, sid);
    }

    /// <summary>
    /// A session that stays healthy while a test throws bad input at the server: opened before, checked after.
    /// </summary>
    public async Task<HealthySession> OpenHealthySessionAsync()
    {
        var (ws, sid) = await OpenWebSocketAsync();
        return new HealthySession(this, ws, sid);
    }

    /// <summary>Sends raw bytes on a new TCP connection and returns everything the server answers until it closes.</summary>
    public async Task<string> RawHttpAsync(string request, TimeSpan? timeout = null)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, Host.Port).WithTimeout();
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request)).AsTask().WithTimeout();
        using var cts = new CancellationTokenSource(timeout ?? TestTimeouts.Default);
        var buffer = new MemoryStream();
        var chunk = new byte[4096];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(chunk, cts.Token)) > 0)
            {
                buffer.Write(chunk, 0, read);
            }
        }
        catch (IOException)
        {
            // a reset after the answer counts as the end
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static string UpgradeRequest(string pathAndQuery, int port) =>
        $"GET {pathAndQuery} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Host.DisposeAsync();
    }
}

/// <summary>A WebSocket session opened before some bad input, to show the bad input did not harm it.</summary>
public sealed class HealthySession(EchoHost host, RawWebSocket ws, string sid) : IAsyncDisposable
{
    public string Sid => sid;

    public async Task AssertEchoesAsync()
    {
        var text = "4still-alive-" + Guid.NewGuid().ToString("N");
        await ws.SendTextAsync(text);
        Assert.Equal(text, await ws.ReceiveTextAsync(skipPings: true));
        Assert.True(host.IsOpen(sid));
        // And a brand-new session works too.
        var (fresh, _) = await host.OpenWebSocketAsync();
        await using var _fresh = fresh;
        await fresh.SendTextAsync("4new");
        Assert.Equal("4new", await fresh.ReceiveTextAsync(skipPings: true));
    }

    public ValueTask DisposeAsync() => ws.DisposeAsync();
}

/// <summary>A received WebSocket message (or the close).</summary>
public sealed record WsFrame(WebSocketMessageType Type, byte[] Data, WebSocketCloseStatus? CloseStatus)
{
    public string Text => Encoding.UTF8.GetString(Data);
}

/// <summary>ClientWebSocket with whole-message reads and timeouts.</summary>
public sealed class RawWebSocket(ClientWebSocket ws) : IAsyncDisposable
{
    public ClientWebSocket Socket => ws;

    public Task SendTextAsync(string text) =>
        ws.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None).WithTimeout();

    public Task SendBinaryAsync(byte[] data) =>
        ws.SendAsync(data, WebSocketMessageType.Binary, true, CancellationToken.None).WithTimeout();

    /// <summary>The next message; a close comes back as a frame of type Close.</summary>
    public async Task<WsFrame> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TestTimeouts.Default);
        var buffer = new byte[64 * 1024];
        var data = new MemoryStream();
        try
        {
            while (true)
            {
                var result = await ws.ReceiveAsync(buffer, cts.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return new WsFrame(WebSocketMessageType.Close, [], result.CloseStatus);
                }
                data.Write(buffer, 0, result.Count);
                if (result.EndOfMessage)
                {
                    return new WsFrame(result.MessageType, data.ToArray(), null);
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("no WebSocket message in time");
        }
        catch (WebSocketException)
        {
            // The server dropped the TCP connection without a close frame: that is a close too.
            return new WsFrame(WebSocketMessageType.Close, [], null);
        }
    }

    /// <summary>The next text message, optionally skipping heartbeat pings (<c>2</c>).</summary>
    public async Task<string> ReceiveTextAsync(bool skipPings = false, bool answerPings = false)
    {
        while (true)
        {
            var frame = await ReceiveAsync();
            Assert.Equal(WebSocketMessageType.Text, frame.Type);
            if ((skipPings || answerPings) && frame.Text == "2")
            {
                if (answerPings)
                {
                    await SendTextAsync("3");
                }
                continue;
            }
            return frame.Text;
        }
    }

    /// <summary>Reads until the server closes (skipping other messages); returns the close status, null for a drop.</summary>
    public async Task<WebSocketCloseStatus?> WaitForCloseAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TestTimeouts.Default);
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException("the server did not close the WebSocket");
            }
            var frame = await ReceiveAsync(left);
            if (frame.Type == WebSocketMessageType.Close)
            {
                return frame.CloseStatus;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        ws.Abort();
        ws.Dispose();
        return ValueTask.CompletedTask;
    }
}

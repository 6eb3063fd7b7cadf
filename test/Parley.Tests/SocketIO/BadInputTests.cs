using System.Net.WebSockets;
using System.Text;
using System.Text.RegularExpressions;
using Parley.Testing;

namespace Parley.Tests.SocketIO;

/// <summary>
/// Every bad input of issue 3 (reference/anchors.md §3.2), written raw over a WebSocket
/// (<c>ws://…/socket.io/?EIO=4&amp;transport=websocket</c>) after the open packet and a CONNECT to <c>/</c>: each
/// closes that client's WebSocket, is logged with its Engine.IO sid, and an official client connected to the same
/// server still completes an emit/ack round trip. Frames are Engine.IO messages, so each text starts with <c>4</c>.
/// </summary>
public sealed partial class BadInputTests : IAsyncLifetime
{
    private SioHost _host = null!;
    private SioHost.Client _healthy = null!;

    public async Task InitializeAsync()
    {
        _host = await SioHost.StartAsync(io => io.OnConnection(socket =>
        {
            socket.On("ping-me", e => e.AckAsync("pong", e.Get<int>(0)));
            socket.On("crash", e => throw new InvalidOperationException("an application bug"));
        }));
        _healthy = await _host.ConnectAsync("websocket");
    }

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    [GeneratedRegex("\"sid\":\"([^\"]+)\"")]
    private static partial Regex SidPattern();

    private static async Task<string> ReceiveTextAsync(ClientWebSocket ws)
    {
        var buffer = new byte[8192];
        var result = await ws.ReceiveAsync(buffer, CancellationToken.None).WithTimeout();
        Assert.Equal(WebSocketMessageType.Text, result.MessageType);
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }

    /// <summary>Opens a raw WebSocket, reads the open packet, joins <c>/</c>; returns the socket and the Engine.IO sid.</summary>
    private async Task<(ClientWebSocket Ws, string Sid)> OpenJoinedAsync()
    {
        var ws = new ClientWebSocket();
        await ws.ConnectAsync(new Uri(_host.Url.Replace("http://", "ws://", StringComparison.Ordinal) + "/socket.io/?EIO=4&transport=websocket"), CancellationToken.None).WithTimeout();
        var open = await ReceiveTextAsync(ws);
        Assert.StartsWith("0{", open);
        var sid = SidPattern().Match(open).Groups[1].Value;
        await SendTextAsync(ws, "40");
        string connected;
        do
        {
            connected = await ReceiveTextAsync(ws);
        }
        while (connected == "2"); // a ping may come first
        Assert.StartsWith("40{\"sid\":\"", connected);
        return (ws, sid);
    }

    private static Task SendTextAsync(ClientWebSocket ws, string text) =>
        ws.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None).WithTimeout();

    private static Task SendBinaryAsync(ClientWebSocket ws, byte[] bytes) =>
        ws.SendAsync(bytes, WebSocketMessageType.Binary, true, CancellationToken.None).WithTimeout();

    /// <summary>Reads until the server closes the WebSocket (pings are skipped); fails if a Socket.IO packet comes instead.</summary>
    private static async Task AssertClosedAsync(ClientWebSocket ws)
    {
        var buffer = new byte[8192];
        while (true)
        {
            WebSocketReceiveResult result;
            try
            {
                result = await ws.ReceiveAsync(buffer, CancellationToken.None).WithTimeout();
            }
            catch (WebSocketException)
            {
                return; // closed without a close handshake: closed all the same
            }
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }
            var text = Encoding.UTF8.GetString(buffer, 0, result.Count);
            Assert.True(text is "2" or "1", "unexpected frame before the close: " + text);
        }
    }

    private async Task AssertHealthyStillWorksAsync()
    {
        var answer = await _healthy.EmitWithAckAsync("ping-me", [7], timeout: 10_000);
        Assert.Equal("pong", answer!.GetValue<string>());
    }

    public static TheoryData<string, string> TextInputs => new()
    {
        { "object as event name", "42[{\"toString\":\"foo\"}]" },
        { "boolean as event name", "42[true,\"foo\"]" },
        { "reserved event name", "42[\"connect\"]" },
        { "array as CONNECT payload", "40[]" },
        { "attachment count without '-'", "451[\"x\",{\"_placeholder\":true,\"num\":0}]" },
        { "more attachments than allowed", "4511-[\"x\"" + string.Concat(Enumerable.Range(0, 11).Select(i => ",{\"_placeholder\":true,\"num\":" + i + "}")) + "]" },
        { "event named error", "42[\"error\",\"boom\"]" },
        { "packet for a namespace not joined", "42/not-joined,[\"x\"]" },
        { "CONNECT_ERROR from the client", "44{\"message\":\"x\"}" },
        { "double CONNECT", "40" },
        { "unknown packet type", "47[\"x\"]" },
    };

    [Theory]
    [MemberData(nameof(TextInputs))]
    public async Task Bad_text_packets_close_that_client_only(string what, string frame)
    {
        var (ws, sid) = await OpenJoinedAsync();
        using (ws)
        {
            await SendTextAsync(ws, frame);
            await AssertClosedAsync(ws);
        }
        await TestTimeouts.Eventually(() => TestLog.Contains("Socket.IO client " + sid), because: what + " is logged");
        await AssertHealthyStillWorksAsync();
    }

    [Fact]
    public async Task A_splice_placeholder_with_its_binary_frame_closes_the_client()
    {
        var (ws, sid) = await OpenJoinedAsync();
        using (ws)
        {
            await SendTextAsync(ws, "451-[\"x\",{\"_placeholder\":true,\"num\":\"splice\"}]");
            try
            {
                await SendBinaryAsync(ws, [1, 2, 3]);
            }
            catch (WebSocketException)
            {
                // already closed after the text part: fine
            }
            await AssertClosedAsync(ws);
        }
        await TestTimeouts.Eventually(() => TestLog.Contains("Socket.IO client " + sid));
        await AssertHealthyStillWorksAsync();
    }

    [Fact]
    public async Task A_binary_frame_nobody_announced_closes_the_client()
    {
        var (ws, sid) = await OpenJoinedAsync();
        using (ws)
        {
            await SendBinaryAsync(ws, [1, 2, 3]);
            await AssertClosedAsync(ws);
        }
        await TestTimeouts.Eventually(() => TestLog.Contains("Socket.IO client " + sid));
        await AssertHealthyStillWorksAsync();
    }

    [Fact]
    public async Task A_valid_binary_event_is_accepted_on_the_raw_socket()
    {
        // The control case: a well-formed event with an ack on the same kind of raw socket is answered.
        var (ws, _) = await OpenJoinedAsync();
        using (ws)
        {
            await SendTextAsync(ws, "420[\"ping-me\",5]");
            string reply;
            do
            {
                reply = await ReceiveTextAsync(ws);
            }
            while (reply == "2");
            Assert.Equal("430[\"pong\",5]", reply);
        }
    }
}

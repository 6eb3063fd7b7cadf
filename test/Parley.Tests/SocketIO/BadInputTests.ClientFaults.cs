using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Parley.Testing;

namespace Parley.Tests.SocketIO;

// Failures a client can trigger at will cost that client, not the server's log (docs/security.md "Client faults").
public sealed partial class BadInputTests
{
    /// <summary>Every log entry about this connection or socket, and every entry carrying an argument fault.</summary>
    private static long LogBytesAbout(params string[] ids) =>
        TestLog.Provider.Entries
            .Where(e => ids.Any(id => e.Message.Contains(id, StringComparison.Ordinal)) || e.Exception is InvalidEventArgumentException)
            .Sum(e => (long)e.Message.Length + (e.Exception?.ToString().Length ?? 0));

    [Fact]
    public async Task Ten_thousand_unreadable_arguments_cost_under_10_KB_of_log_and_close_that_connection()
    {
        var (ws, sid) = await OpenJoinedAsync();
        using (ws)
        {
            // ping-me reads an int: a string argument is a packet that decodes but that the handler cannot read.
            var frame = "42[\"ping-me\",\"not a number\"]"u8.ToArray();
            var sent = 0;
            try
            {
                for (; sent < 10_000; sent++)
                {
                    await ws.SendAsync(frame, WebSocketMessageType.Text, true, CancellationToken.None).WithTimeout();
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                // The server closed the connection part way: what the test expects.
            }
            await AssertClosedAsync(ws);
        }
        await TestTimeouts.Eventually(() => TestLog.Contains("Socket.IO client " + sid + ": 20 faulty packets, closing"), because: "the close is logged");
        Assert.Single(TestLog.Provider.Entries, e => e.Message.Contains("Socket.IO client " + sid + ": faulty packet", StringComparison.Ordinal));
        Assert.DoesNotContain(TestLog.Provider.Entries, e => e.Message.Contains(sid, StringComparison.Ordinal) && (e.Exception is not null || e.Level >= LogLevel.Error));
        var bytes = LogBytesAbout(sid);
        Assert.True(bytes < 10_000, $"{bytes} bytes of log");
        await AssertHealthyStillWorksAsync();
    }

    [Fact]
    public async Task Ten_thousand_unreadable_arguments_over_polling_close_that_client_only()
    {
        var client = await _host.ConnectAsync("polling");
        // Written under the official client's Engine.IO socket, so they go out batched in polling POSTs.
        for (var i = 0; i < 10; i++)
        {
            await _host.Driver.CallAsync("sio.rawSendMany", new { h = client.H, data = "2[\"ping-me\",\"not a number\"]", count = 1000 });
        }
        var disconnect = await client.NextEventAsync("disconnect");
        Assert.Equal("transport close", disconnect!["reason"]!.GetValue<string>());
        var sid = client.Socket.ConnectionId;
        await TestTimeouts.Eventually(() => TestLog.Contains("Socket.IO client " + sid + ": 20 faulty packets, closing"), because: "the close is logged");
        var bytes = LogBytesAbout(sid, client.Id);
        Assert.True(bytes < 10_000, $"{bytes} bytes of log");
        await AssertHealthyStillWorksAsync();
    }

    [Fact]
    public async Task A_handler_bug_any_client_triggers_is_logged_once_with_its_stack()
    {
        var client = await _host.ConnectAsync("websocket");
        for (var i = 0; i < 200; i++)
        {
            await client.EmitAsync("crash", i);
        }
        await client.EmitWithAckAsync("ping-me", [1], timeout: 10_000); // the same connection is still served
        await TestTimeouts.Eventually(() => TestLog.Provider.Entries.Any(e => e.Message.Contains(client.Id, StringComparison.Ordinal) && e.Exception is InvalidOperationException),
            because: "the bug is logged");
        var lines = TestLog.Provider.Entries.Where(e => e.Message.Contains("handler for 'crash' failed", StringComparison.Ordinal) && e.Message.Contains(client.Id, StringComparison.Ordinal)).ToList();
        var line = Assert.Single(lines);
        Assert.Equal(LogLevel.Error, line.Level);
        Assert.Contains("an application bug", line.Exception!.ToString(), StringComparison.Ordinal);
    }
}

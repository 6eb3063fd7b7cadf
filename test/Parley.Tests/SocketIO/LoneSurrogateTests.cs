using Microsoft.Extensions.Logging;
using Parley.Testing;

namespace Parley.Tests.SocketIO;

/// <summary>
/// The official client sends lone surrogates (JavaScript strings may hold them; JSON.stringify writes
/// <c>\ud800</c>) in event names and arguments: handlers read every string as U+FFFD, answer the ack, and
/// nothing in the log carries an exception (docs/security.md "Ill-formed UTF-16").
/// </summary>
public sealed class LoneSurrogateTests : IAsyncLifetime
{
    private SioHost _host = null!;

    public async Task InitializeAsync() =>
        _host = await SioHost.StartAsync(io => io.OnConnection(socket => socket.OnAny(async e =>
        {
            // What handlers do with client strings: GetString, Get<string>, property names.
            var text = e.Get<string>(0);
            var payload = e.Arguments[1].Element;
            var room = payload.GetProperty("room").GetString();
            var keys = payload.EnumerateObject().Select(p => p.Name).ToArray();
            await e.AckAsync(new { name = e.Name, text, room, keys });
        })));

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    private static System.Text.Json.Nodes.JsonObject Js(string jsonText) => new() { ["$json"] = jsonText };

    [Theory]
    [InlineData("polling")]
    [InlineData("websocket")]
    public async Task Lone_surrogates_reach_handlers_as_replacement_characters(string transport)
    {
        var client = await _host.ConnectAsync(transport);
        var answer = await _host.Driver.CallAsync("sio.emit", new
        {
            h = client.H,
            @event = Js("\"\\ud800\""),
            args = new[] { Js("\"a\\udc00b\""), Js("{\"room\":\"\\udc00\\ud800\",\"\\ud800\":1,\"ok\\ud83d\\ude00\":2}") },
            ack = true,
            timeout = 10_000,
        });
        Assert.Equal("\ufffd", answer!["name"]!.GetValue<string>());
        Assert.Equal("a\ufffdb", answer["text"]!.GetValue<string>());
        Assert.Equal("\ufffd\ufffd", answer["room"]!.GetValue<string>());
        Assert.Equal(["room", "\ufffd", "ok\ud83d\ude00"], answer["keys"]!.AsArray().Select(k => k!.GetValue<string>()));

        // Still connected, and no log line about this socket carries an exception or is above Information.
        Assert.Equal("\ufffd", (await _host.Driver.CallAsync("sio.emit", new
        {
            h = client.H,
            @event = Js("\"\\udc00\""),
            args = new[] { Js("\"x\""), Js("{\"room\":\"r\"}") },
            ack = true,
            timeout = 10_000,
        }))!["name"]!.GetValue<string>());
        Assert.DoesNotContain(TestLog.Provider.Entries, entry =>
            (entry.Message.Contains(client.Id, StringComparison.Ordinal) || entry.Message.Contains(client.Socket.ConnectionId, StringComparison.Ordinal))
            && (entry.Exception is not null || entry.Level > LogLevel.Information));
    }
}

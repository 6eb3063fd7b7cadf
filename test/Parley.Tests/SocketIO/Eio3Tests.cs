using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Parley.Testing;

namespace Parley.Tests.SocketIO;

/// <summary>
/// Engine.IO v3 (socket.io-client 2.x) with <c>AllowEIO3</c>: the wire checked byte for byte over raw HTTP, the
/// refusal when it is off, and v2 and v4 clients side by side in one room.
/// </summary>
public sealed partial class Eio3Tests : IAsyncLifetime
{
    private ParleyTestHost _host = null!;
    private NodeDriver? _v2;

    public async Task InitializeAsync()
    {
        _host = await ParleyTestHost.StartAsync(Configure, o => o.Engine.AllowEIO3 = true);
    }

    private static void Configure(ParleyServer io)
    {
        io.OnConnection(socket =>
        {
            socket.On("bin", e => socket.EmitAsync("bin", new byte[] { 1, 2, 3 }));
            socket.On("join", async e =>
            {
                socket.Join(e.Get<string>(0)!);
                await e.AckAsync(true);
            });
            socket.On("shout", e => socket.Namespace.To("room").EmitAsync("shouted", e.Get<string>(0), new byte[] { 9, 8 }));
        });
    }

    public async Task DisposeAsync()
    {
        if (_v2 is not null)
        {
            await _v2.DisposeAsync();
        }
        await _host.DisposeAsync();
    }

    private HttpClient Http() => new(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = new Uri(_host.Url), Timeout = TestTimeouts.Default };

    [GeneratedRegex("""^(\d+):0\{"sid":"([A-Za-z0-9_-]{20})","upgrades":\["websocket"\],"pingInterval":1000,"pingTimeout":2000,"maxPayload":1000000\}2:40$""")]
    private static partial Regex V3Open();

    /// <summary>Opens a v3 polling session and checks its first payload: the open packet and the implicit CONNECT of "/".</summary>
    private static async Task<string> HandshakeAsync(HttpClient http, string query = "")
    {
        using var response = await http.GetAsync("/socket.io/?EIO=3&transport=polling" + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; charset=UTF-8", response.Content.Headers.ContentType?.ToString());
        var body = await response.Content.ReadAsStringAsync();
        var match = V3Open().Match(body);
        Assert.True(match.Success, body);
        Assert.Equal(body.IndexOf("2:40", StringComparison.Ordinal) - match.Groups[1].Length - 1, int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        return match.Groups[2].Value;
    }

    private static async Task PostAsync(HttpClient http, string sid, string payload)
    {
        using var response = await http.PostAsync($"/socket.io/?EIO=3&transport=polling&sid={sid}", new StringContent(payload, Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_v3_client_pings_and_the_server_pongs_in_length_prefixed_payloads()
    {
        using var http = Http();
        var sid = await HandshakeAsync(http);
        await PostAsync(http, sid, "1:2");
        Assert.Equal("1:3", await http.GetStringAsync($"/socket.io/?EIO=3&transport=polling&sid={sid}"));

        // A pong from a v3 client is the wrong heartbeat direction: the session is closed (socket.ts onPacket).
        await PostAsync(http, sid, "1:3");
        using var after = await http.GetAsync($"/socket.io/?EIO=3&transport=polling&sid={sid}");
        Assert.Equal(HttpStatusCode.BadRequest, after.StatusCode);
    }

    [Fact]
    public async Task Binary_goes_as_b4_base64_to_a_client_without_binary_and_as_a_binary_payload_otherwise()
    {
        using var http = Http();
        var sid = await HandshakeAsync(http, "&b64=1");
        await PostAsync(http, sid, "9:42[\"bin\"]");
        Assert.Equal("""41:451-["bin",{"_placeholder":true,"num":0}]6:b4AQID""", await http.GetStringAsync($"/socket.io/?EIO=3&transport=polling&sid={sid}&b64=1"));

        sid = await HandshakeAsync(http);
        await PostAsync(http, sid, "9:42[\"bin\"]");
        using var response = await http.GetAsync($"/socket.io/?EIO=3&transport=polling&sid={sid}");
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.ToString());
        var header = "451-[\"bin\",{\"_placeholder\":true,\"num\":0}]"u8.ToArray();
        byte[] expected = [0, 4, 1, 0xFF, .. header, 1, 4, 0xFF, 4, 1, 2, 3];
        Assert.Equal(expected, await response.Content.ReadAsByteArrayAsync());

        // The client's binary payload (application/octet-stream) is read too: a CONNECT to /nsp is refused as an
        // invalid namespace with an ERROR packet carrying a string.
        byte[] post = [0, 7, 0xFF, .. "40/nsp,"u8.ToArray()];
        using var content = new ByteArrayContent(post);
        content.Headers.ContentType = new("application/octet-stream");
        using var posted = await http.PostAsync($"/socket.io/?EIO=3&transport=polling&sid={sid}", content);
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        Assert.Equal("26:44/nsp,\"Invalid namespace\"", await http.GetStringAsync($"/socket.io/?EIO=3&transport=polling&sid={sid}"));
    }

    [Fact]
    public async Task Jsonp_is_refused_with_the_engine_io_error()
    {
        using var http = Http();
        using var response = await http.GetAsync("/socket.io/?EIO=3&transport=polling&j=0");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("""{"code":3,"message":"Bad request"}""", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("polling")]
    [InlineData("websocket")]
    public async Task V2_and_v4_clients_in_one_room_get_the_same_broadcast(string transport)
    {
        _v2 = NodeDriver.Start("driver-v2.mjs");
        var opts = new JsonObject { ["transports"] = new JsonArray(transport) };
        var old = await _v2.CallForHandleAsync("sio.connect", new { url = _host.Url, opts });
        var oldId = (await _v2.NextEventAsync(old, "connect"))!["id"]!.GetValue<string>();
        var current = await _host.Driver.CallForHandleAsync("sio.connect", new { url = _host.Url, opts });
        await _host.Driver.NextEventAsync(current, "connect");

        // A v2 client's socket id is its Engine.IO id in the main namespace, as the client computes it itself.
        var socket = await _host.SocketAsync(oldId);
        Assert.Equal(oldId, socket.ConnectionId);

        Assert.True((await _v2.CallAsync("sio.emit", new { h = old, @event = "join", args = new[] { "room" }, ack = true }))!.GetValue<bool>());
        Assert.True((await _host.Driver.CallAsync("sio.emit", new { h = current, @event = "join", args = new[] { "room" }, ack = true }))!.GetValue<bool>());
        await _host.Driver.CallAsync("sio.emit", new { h = current, @event = "shout", args = new[] { "hi" } });

        foreach (var (driver, h) in new[] { (_v2, old), (_host.Driver, current) })
        {
            var args = await driver.NextSocketEventAsync(h, "shouted");
            Assert.Equal("hi", args[0]!.GetValue<string>());
            Assert.Equal(new byte[] { 9, 8 }, DriverBinary.Unwrap(args[1]));
        }
    }

    [Fact]
    public async Task A_v2_client_is_refused_when_AllowEIO3_is_off()
    {
        await using var strict = await ParleyTestHost.StartAsync(_ => { });
        using var http = new HttpClient { BaseAddress = new Uri(strict.Url), Timeout = TestTimeouts.Default };
        using var response = await http.GetAsync("/socket.io/?EIO=3&transport=polling");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("""{"code":5,"message":"Unsupported protocol version"}""", await response.Content.ReadAsStringAsync());

        _v2 = NodeDriver.Start("driver-v2.mjs");
        var h = await _v2.CallForHandleAsync("sio.connect", new { url = strict.Url, opts = new { transports = new[] { "polling" } } });
        var error = await _v2.NextEventAsync(h, "connect_error");
        Assert.Equal("xhr poll error", error!["message"]!.GetValue<string>());
        Assert.Equal(0, strict.Io.Engine.ClientsCount);
    }
}

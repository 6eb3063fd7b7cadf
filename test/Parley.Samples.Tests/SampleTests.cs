using System.Net;
using System.Text.Json.Nodes;
using Parley.Testing;

namespace Parley.Samples.Tests;

/// <summary>The samples in <c>samples/</c>, each run as its own process and used with the official client.</summary>
public sealed class SampleTests : IAsyncLifetime
{
    private readonly NodeDriver _driver = NodeDriver.Start();
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { Timeout = TestTimeouts.Default };
    private AppProcess? _app;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _driver.DisposeAsync();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    private async Task<string> ConnectAsync(string url, JsonObject? headers = null)
    {
        var opts = new JsonObject { ["transports"] = new JsonArray("websocket") };
        if (headers is not null)
        {
            opts["extraHeaders"] = headers;
        }
        return await _driver.CallForHandleAsync("sio.connect", new { url, opts });
    }

    [Fact]
    public async Task Minimal_serves_its_page_and_client_and_broadcasts_hello_to_the_lobby()
    {
        _app = await AppProcess.StartAsync("Minimal.dll", "/");
        Assert.Contains("/socket.io/socket.io.js", await _http.GetStringAsync(_app.Url + "/").WithTimeout());
        using (var bundle = await _http.GetAsync(_app.Url + "/socket.io/socket.io.js").WithTimeout())
        {
            Assert.Equal(HttpStatusCode.OK, bundle.StatusCode);
        }

        var alice = await ConnectAsync(_app.Url);
        var bob = await ConnectAsync(_app.Url);
        await _driver.NextEventAsync(alice, "connect");
        await _driver.NextEventAsync(bob, "connect");
        var ack = await _driver.CallAsync("sio.emit", new { h = alice, @event = "hello", args = new object[] { "hi lobby" }, ack = true, timeout = 10_000 });
        Assert.True(ack!["ok"]!.GetValue<bool>());
        Assert.Equal("hi lobby", (await _driver.NextSocketEventAsync(bob, "hello"))[0]!.GetValue<string>());
    }

    [Fact]
    public async Task AspNetCoreAuth_admits_signed_in_users_only_and_signing_out_disconnects_them()
    {
        _app = await AppProcess.StartAsync("AspNetCoreAuth.dll", "/socket.io/socket.io.js");
        var sameSite = new JsonObject { ["origin"] = _app.Url };

        var stranger = await ConnectAsync(_app.Url, sameSite);
        Assert.Equal("unauthorized", (await _driver.NextEventAsync(stranger, "connect_error"))!["message"]!.GetValue<string>());

        using var login = await _http.PostAsync(_app.Url + "/login?name=ada", null).WithTimeout();
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var setCookie = Assert.Single(login.Headers.GetValues("Set-Cookie"));
        var cookie = setCookie[..setCookie.IndexOf(';', StringComparison.Ordinal)];

        // The cookie alone is not enough from another site (cross-site WebSocket hijacking).
        var foreign = await ConnectAsync(_app.Url, new JsonObject { ["cookie"] = cookie, ["origin"] = "https://evil.example" });
        Assert.Equal("unauthorized", (await _driver.NextEventAsync(foreign, "connect_error"))!["message"]!.GetValue<string>());

        var ada = await ConnectAsync(_app.Url, new JsonObject { ["cookie"] = cookie, ["origin"] = _app.Url });
        await _driver.NextEventAsync(ada, "connect");
        var name = await _driver.CallAsync("sio.emit", new { h = ada, @event = "whoami", args = Array.Empty<object>(), ack = true, timeout = 10_000 });
        Assert.Equal("ada", name!.GetValue<string>());

        using var logout = new HttpRequestMessage(HttpMethod.Post, _app.Url + "/logout");
        logout.Headers.TryAddWithoutValidation("Cookie", cookie);
        using var loggedOut = await _http.SendAsync(logout).WithTimeout();
        Assert.Equal(HttpStatusCode.OK, loggedOut.StatusCode);
        Assert.Equal("io server disconnect", (await _driver.NextEventAsync(ada, "disconnect"))!["reason"]!.GetValue<string>());
    }
}

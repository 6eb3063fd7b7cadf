using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Parley.Testing;

namespace Parley.Samples.Tests;

/// <summary>
/// samples/ExpressAndParley: the Express app and the Parley app on one Redis, each as the process a user runs. A
/// login on either is a login on both, a message on either reaches the clients of both, and a logout on either ends
/// the session on both.
/// </summary>
public sealed class ExpressAndParleyTests : IAsyncLifetime
{
    private const string Secret = "sample secret";

    private readonly RedisServer _redis = new();
    private readonly NodeDriver _driver = NodeDriver.Start();
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { Timeout = TestTimeouts.Default };
    private NodeProcess? _express;
    private string _expressUrl = "";
    private AppProcess? _parley;

    public async Task InitializeAsync()
    {
        await _redis.InitializeAsync();
        var dir = Path.Combine(RepoPaths.Root, "samples", "ExpressAndParley", "express");
        _express = NodeProcess.StartIn(dir, "server.mjs", new Dictionary<string, string>
        {
            ["PORT"] = "0",
            ["REDIS_URL"] = _redis.Url,
            ["SESSION_SECRET"] = Secret,
        });
        var line = await _express.Output.ReadLineAsync().WithTimeout(TestTimeouts.ProcessStart)
            ?? throw new InvalidOperationException("the Express sample exited: " + _express.Stderr);
        _expressUrl = "http://127.0.0.1:" + JsonNode.Parse(line)!["port"]!.GetValue<int>();
        _parley = await AppProcess.StartAsync("ExpressAndParley.dll", "/socket.io/socket.io.js", "--Redis", _redis.Url, "--SessionSecret", Secret);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _driver.DisposeAsync();
        if (_parley is not null)
        {
            await _parley.DisposeAsync();
        }
        if (_express is not null)
        {
            await _express.DisposeAsync();
        }
        await _redis.DisposeAsync();
    }

    private async Task<string> LoginAsync(string url, string name)
    {
        using var response = await _http.PostAsJsonAsync(url + "/login", new { name }).WithTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        return setCookie[..setCookie.IndexOf(';', StringComparison.Ordinal)];
    }

    private async Task<HttpStatusCode> MeAsync(string url, string cookie)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url + "/me");
        request.Headers.TryAddWithoutValidation("Cookie", cookie);
        using var response = await _http.SendAsync(request).WithTimeout();
        return response.StatusCode;
    }

    private async Task<string> ConnectAsync(string url, string cookie)
    {
        var opts = new JsonObject { ["transports"] = new JsonArray("websocket"), ["extraHeaders"] = new JsonObject { ["cookie"] = cookie } };
        var h = await _driver.CallForHandleAsync("sio.connect", new { url, opts });
        await _driver.NextEventAsync(h, "connect");
        return h;
    }

    [Fact]
    public async Task Sessions_and_messages_are_shared_both_ways()
    {
        // Ada logs in on Express and chats on Parley; Bob logs in on Parley and chats on Express.
        var ada = await LoginAsync(_expressUrl, "ada");
        var bob = await LoginAsync(_parley!.Url, "bob");
        Assert.Equal(HttpStatusCode.OK, await MeAsync(_parley.Url, ada));
        Assert.Equal(HttpStatusCode.OK, await MeAsync(_expressUrl, bob));

        var adaOnParley = await ConnectAsync(_parley.Url, ada);
        var bobOnExpress = await ConnectAsync(_expressUrl, bob);

        // The adapters' subscriptions are in place once a broadcast from each side reaches the other.
        await TestTimeouts.Eventually(async () =>
        {
            await _driver.CallAsync("sio.emit", new { h = adaOnParley, @event = "message", args = new object[] { "ping" } });
            return await _driver.ReceivesNoneAsync(bobOnExpress, "event", TimeSpan.FromMilliseconds(500), e => e?["name"]?.GetValue<string>() == "message") is false;
        }, because: "Parley's broadcast reaching an Express client");

        await _driver.CallAsync("sio.emit", new { h = bobOnExpress, @event = "message", args = new object[] { "hello from Express" } });
        var fromBob = await _driver.NextEventAsync(adaOnParley, "event", where: e => e?["args"]?[0]?["text"]?.GetValue<string>() == "hello from Express");
        Assert.Equal("bob", fromBob!["args"]![0]!["user"]!.GetValue<string>());

        await _driver.CallAsync("sio.emit", new { h = adaOnParley, @event = "message", args = new object[] { "hello from Parley" } });
        var fromAda = await _driver.NextEventAsync(bobOnExpress, "event", where: e => e?["args"]?[0]?["text"]?.GetValue<string>() == "hello from Parley");
        Assert.Equal("ada", fromAda!["args"]![0]!["user"]!.GetValue<string>());

        // A logout on Parley ends Ada's session on Express too.
        using var logout = new HttpRequestMessage(HttpMethod.Post, _parley.Url + "/logout");
        logout.Headers.TryAddWithoutValidation("Cookie", ada);
        using (var loggedOut = await _http.SendAsync(logout).WithTimeout())
        {
            Assert.Equal(HttpStatusCode.NoContent, loggedOut.StatusCode);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, await MeAsync(_expressUrl, ada));
    }
}

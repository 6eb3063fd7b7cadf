using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Parley.Testing;

namespace Parley.Chat.Tests;

/// <summary>
/// The cluster people run (scripts/cluster.sh): Redis, three chat nodes as separate processes and nginx with the
/// script's own configuration. A node is killed during a conversation; its users reconnect through the balancer
/// to another node, stay logged in and keep chatting.
/// </summary>
public sealed class ChatFailoverTests : IAsyncLifetime
{
    private const string Secret = "failover-test-secret";

    private readonly List<AppProcess> _nodes = [];
    private RedisServer? _redis;
    private NginxServer? _balancer;
    private NodeDriver? _driver;

    private NginxServer Balancer => _balancer!;

    private NodeDriver Driver => _driver!;

    public async Task InitializeAsync()
    {
        // xunit does not call DisposeAsync when InitializeAsync throws: stop what did start, or its processes outlive the run.
        try
        {
            _redis = await RedisServer.StartAsync();
            var starting = Enumerable.Range(0, 3).Select(_ => AppProcess.StartAsync("Parley.Chat.dll", "/healthz", "--redis", _redis!.Url, "--secret", Secret)).ToArray();
            try
            {
                await Task.WhenAll(starting).WithTimeout(TimeSpan.FromSeconds(60));
            }
            finally
            {
                _nodes.AddRange(starting.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
            }
            _balancer = await NginxServer.StartAsync(_nodes.Select(n => n.Port));
            _driver = NodeDriver.Start();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (_driver is not null)
        {
            await _driver.DisposeAsync();
        }
        if (_balancer is not null)
        {
            await _balancer.DisposeAsync();
        }
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    /// <summary>A person: logged in through the balancer, with the node their session is pinned to.</summary>
    private sealed record Person(string Name, HttpClient Http, string Cookie);

    private async Task<Person> LoginAsync(string name)
    {
        var cookies = new CookieContainer();
        var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = new Uri(Balancer.Url), Timeout = TestTimeouts.Default };
        (await http.PostAsJsonAsync("/login", new { name }).WithTimeout()).EnsureSuccessStatusCode();
        return new Person(name, http, "connect.sid=" + cookies.GetCookies(new Uri(Balancer.Url))["connect.sid"]!.Value);
    }

    /// <summary>Who the person is and which node (<c>127.0.0.1:port</c>) the balancer sends their requests to.</summary>
    private static async Task<(string Name, string Node)> WhoAmIAsync(Person person)
    {
        var response = await person.Http.GetAsync("/api/me").WithTimeout();
        response.EnsureSuccessStatusCode();
        var me = await response.Content.ReadFromJsonAsync<JsonObject>();
        return (me!["name"]!.GetValue<string>(), response.Headers.GetValues("X-Parley-Node").Last());
    }

    private async Task<string> ConnectAsync(Person person)
    {
        // The browser client's defaults: long-polling first, then the upgrade; reconnection on.
        var h = await Driver.CallForHandleAsync("sio.connect", new
        {
            url = Balancer.Url,
            opts = new { extraHeaders = new { cookie = person.Cookie }, reconnection = true, reconnectionDelay = 200, reconnectionDelayMax = 1000 },
        });
        await Driver.NextEventAsync(h, "connect");
        return h;
    }

    private async Task SayAsync(string h, string text)
    {
        var ack = await Driver.CallAsync("sio.emit", new { h, @event = "message", args = new object[] { new { text } }, ack = true, timeout = 5000 });
        Assert.True(ack!["ok"]!.GetValue<bool>(), ack.ToJsonString());
    }

    private async Task HearAsync(string h, string from, string text)
    {
        var timeout = DateTime.UtcNow + TestTimeouts.Default;
        while (true)
        {
            var message = (await Driver.NextSocketEventAsync(h, "message", timeout - DateTime.UtcNow))[0]!;
            if (message["text"]!.GetValue<string>() == text)
            {
                Assert.Equal(from, message["user"]!.GetValue<string>());
                return;
            }
        }
    }

    [Fact]
    public async Task Killing_a_node_moves_its_users_to_another_node_still_logged_in()
    {
        var ann = await LoginAsync("Ann");
        var bob = await LoginAsync("Bob");
        var (_, annNode) = await WhoAmIAsync(ann);
        var annSocket = await ConnectAsync(ann);
        var bobSocket = await ConnectAsync(bob);

        await SayAsync(annSocket, "before the crash");
        await HearAsync(bobSocket, "Ann", "before the crash");

        var victim = _nodes.Single(n => annNode == $"127.0.0.1:{n.Port}");
        var (_, bobNode) = await WhoAmIAsync(bob);
        await victim.KillAsync();

        // Ann's connection drops with her node; the client reconnects through the balancer to a live node, where
        // her session (in Redis) still says who she is.
        Assert.Equal("transport close", (await Driver.NextEventAsync(annSocket, "disconnect"))!["reason"]!.GetValue<string>());
        await Driver.NextEventAsync(annSocket, "connect", TimeSpan.FromSeconds(30));
        if (bobNode == annNode)
        {
            await Driver.NextEventAsync(bobSocket, "connect", TimeSpan.FromSeconds(30));
        }
        var (name, newNode) = await WhoAmIAsync(ann);
        Assert.Equal("Ann", name);
        Assert.NotEqual(annNode, newNode);

        await SayAsync(annSocket, "after the crash");
        await HearAsync(bobSocket, "Ann", "after the crash");
        await SayAsync(bobSocket, "welcome back");
        await HearAsync(annSocket, "Bob", "welcome back");
        ann.Http.Dispose();
        bob.Http.Dispose();
    }
}

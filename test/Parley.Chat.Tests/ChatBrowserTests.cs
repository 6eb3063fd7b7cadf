using Microsoft.Playwright;
using Parley.Testing;

namespace Parley.Chat.Tests;

/// <summary>
/// The chat as people use it: Debian's headless Chromium (/usr/bin/chromium, installed by test.sh) driven by
/// Playwright (which never downloads a browser here), on two nodes of a cluster sharing a real Redis. Ann uses the
/// first node and Bob the second, so what they see of each other crossed Redis.
/// </summary>
public sealed class ChatBrowserTests : IAsyncLifetime
{
    private RedisServer? _redis;
    private ChatHost[] _nodes = [];
    private ChatBrowser? _browser;

    public async Task InitializeAsync()
    {
        // xunit does not call DisposeAsync when InitializeAsync throws: stop what did start (redis-server is a process).
        try
        {
            _redis = await RedisServer.StartAsync();
            _nodes = await ChatHost.StartClusterAsync(_redis.Url, 2);
            _browser = await ChatBrowser.LaunchAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
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

    /// <summary>Opens a new browser (context) on node <paramref name="node"/> and logs in there.</summary>
    private Task<IPage> LoginAsync(string name, int node = 0, ViewportSize? viewport = null) =>
        _browser!.LoginAsync(_nodes[node].Url, name, viewport);

    private static Task SendAsync(IPage page, string text) => ChatBrowser.SendAsync(page, text);

    private static Task WaitForMessageAsync(IPage page, string text) => ChatBrowser.WaitForMessageAsync(page, text);

    [Fact]
    public async Task Two_people_log_in_see_each_other_and_chat()
    {
        var ann = await LoginAsync("Ann");
        var bob = await LoginAsync("Bob", node: 1, viewport: new ViewportSize { Width = 390, Height = 844 });

        await ann.Locator("#presence li", new PageLocatorOptions { HasTextString = "Bob" }).WaitForAsync().WithTimeout();
        await bob.Locator("#presence li", new PageLocatorOptions { HasTextString = "Ann" }).WaitForAsync().WithTimeout();

        await SendAsync(ann, "hello Bob");
        await WaitForMessageAsync(bob, "hello Bob");
        await SendAsync(bob, "hi Ann");
        await WaitForMessageAsync(ann, "hi Ann");
        Assert.Equal("Ann", await bob.Locator("#messages li strong").First.TextContentAsync().WithTimeout());

        // Fine on a phone-width screen: nothing wider than the viewport.
        var overflow = await bob.EvaluateAsync<int>("document.documentElement.scrollWidth - window.innerWidth").WithTimeout();
        Assert.True(overflow <= 0, $"page is {overflow}px wider than a 390px screen");

        var screenshots = Path.Combine(RepoPaths.Root, "artifacts", "screenshots");
        Directory.CreateDirectory(screenshots);
        await ann.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(screenshots, "chat-ann.png") }).WithTimeout();
        await bob.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(screenshots, "chat-bob-phone.png") }).WithTimeout();
        Assert.True(new FileInfo(Path.Combine(screenshots, "chat-ann.png")).Length > 1000);
    }

    [Fact]
    public async Task A_message_containing_html_shows_as_text_and_runs_nothing()
    {
        var ann = await LoginAsync("Ann");
        var bob = await LoginAsync("<i>Bob</i>", node: 1);
        const string attack = "<img src=x onerror=\"window.__pwned=1\"><b>bold</b><script>window.__pwned=2</script>";
        await SendAsync(bob, attack);
        await WaitForMessageAsync(ann, "bold");
        Assert.Equal(attack, await ann.Locator("#messages li .text").Last.TextContentAsync().WithTimeout());
        Assert.Equal("<i>Bob</i>", await ann.Locator("#messages li strong").Last.TextContentAsync().WithTimeout());
        Assert.Equal(0, await ann.Locator("#messages img, #messages b, #messages script, #messages i").CountAsync().WithTimeout());
        await Task.Delay(300);
        Assert.True(await ann.EvaluateAsync<bool>("window.__pwned === undefined").WithTimeout());
    }

    [Fact]
    public async Task Reload_shows_the_history()
    {
        var ann = await LoginAsync("Ann");
        await SendAsync(ann, "still here after reload");
        await WaitForMessageAsync(ann, "still here after reload");
        await ann.ReloadAsync().WithTimeout();
        await ann.WaitForSelectorAsync("#status.connected").WithTimeout();
        await WaitForMessageAsync(ann, "still here after reload");
    }

    [Fact]
    public async Task Logout_in_one_tab_disconnects_the_other()
    {
        // Cookies are per host, not per port: the second tab, on the other node, carries the same session.
        var first = await LoginAsync("Ann");
        var second = await first.Context.NewPageAsync();
        await second.GotoAsync(_nodes[1].Url + "/").WithTimeout();
        await second.WaitForSelectorAsync("#status.connected").WithTimeout();

        await first.ClickAsync("form#logout button").WithTimeout();
        await first.WaitForSelectorAsync("form#login").WithTimeout();
        // The other tab's socket is disconnected by the server; the page notices and goes back to the login form.
        await second.WaitForSelectorAsync("form#login", new PageWaitForSelectorOptions { Timeout = 15_000 }).WithTimeout();
    }

    [Fact]
    public async Task The_page_shows_reconnecting_while_its_node_is_down_and_carries_on_after()
    {
        var ann = await LoginAsync("Ann");
        var bob = await LoginAsync("Bob", node: 1);
        var port = new Uri(_nodes[1].Url).Port;

        await _nodes[1].DisposeAsync();
        await bob.WaitForSelectorAsync("#status.reconnecting").WithTimeout();
        Assert.Equal("reconnecting…", await bob.Locator("#status").TextContentAsync().WithTimeout());

        // The node comes back on the same address; Bob's page reconnects by itself, still logged in (his session
        // is in Redis), and the conversation goes on across the nodes.
        _nodes[1] = await ChatHost.StartAsync("--redis", _redis!.Url, "--urls", $"http://127.0.0.1:{port}");
        await bob.WaitForSelectorAsync("#status.connected", new PageWaitForSelectorOptions { Timeout = 20_000 }).WithTimeout();
        await SendAsync(bob, "back again");
        await WaitForMessageAsync(ann, "back again");
    }
}

using Microsoft.Playwright;
using Parley.AdminUI;
using Parley.Testing;

namespace Parley.Chat.Tests;

/// <summary>
/// The official Socket.IO Admin UI (@socket.io/admin-ui's ui/dist, served by the chat at /admin) in Debian's
/// headless Chromium, on two chat nodes sharing a real Redis: a wrong password is refused, the operator signs in on
/// the first node, sees the users of both nodes and their room, and disconnects the second node's user, whose chat
/// page shows it. The screenshot taken here (artifacts/screenshots/admin-ui.png) is where README's docs/images/admin-ui.png came from.
/// </summary>
public sealed class ChatAdminBrowserTests : IAsyncLifetime
{
    private const string AdminPassword = "operator-only";

    private RedisServer? _redis;
    private readonly List<ChatHost> _nodes = [];
    private IPlaywright? _playwright;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        try
        {
            _redis = await RedisServer.StartAsync();
            var hash = AdminUIPassword.Hash(AdminPassword, cost: 6);
            for (var i = 0; i < 2; i++)
            {
                _nodes.Add(await ChatHost.StartAsync("--redis", _redis.Url, "--admin-password-hash", hash));
            }
            foreach (var node in _nodes)
            {
                var adapter = Io(node).Of("/admin").Adapter;
                await TestTimeouts.Eventually(async () => await adapter.ServerCountAsync() == 2, because: "both nodes serve /admin");
            }
            _playwright = await Playwright.CreateAsync().WithTimeout();
            _browser = await Chromium.LaunchAsync(_playwright);
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
            await _browser.CloseAsync().WithTimeout();
        }
        _playwright?.Dispose();
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    private static ParleyServer Io(ChatHost node) => (ParleyServer)node.App.Services.GetService(typeof(ParleyServer))!;

    private async Task<IPage> NewPageAsync()
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
        context.SetDefaultTimeout(20_000);
        // The UI links a web font and an icon font from CDNs; nothing outside this machine is reachable, so fail them at once.
        await context.RouteAsync(url => !url.StartsWith("http://127.0.0.1", StringComparison.Ordinal), route => route.AbortAsync());
        return await context.NewPageAsync();
    }

    private async Task<IPage> ChatAsync(string name, int node)
    {
        var page = await NewPageAsync();
        await page.GotoAsync(_nodes[node].Url + "/").WithTimeout();
        await page.FillAsync("form#login input[name=name]", name).WithTimeout();
        await page.ClickAsync("form#login button[type=submit]").WithTimeout();
        await page.WaitForSelectorAsync("#status.connected").WithTimeout();
        return page;
    }

    private static async Task SignInAsync(IPage admin, string url, string password)
    {
        await admin.GetByLabel("Server URL").FillAsync(url).WithTimeout();
        await admin.GetByLabel("Username").FillAsync("admin").WithTimeout();
        await admin.GetByLabel("Password").FillAsync(password).WithTimeout();
        await admin.Locator("form button[type=submit]").ClickAsync().WithTimeout();
    }

    [Fact]
    public async Task The_operator_sees_both_nodes_users_and_rooms_and_disconnects_one()
    {
        var ann = await ChatAsync("Ann", node: 0);
        var bob = await ChatAsync("Bob", node: 1);
        // Bob is the only chat user of the second node.
        var bobId = Io(_nodes[1]).Sockets.Sockets.Keys.Single();

        var admin = await NewPageAsync();
        await admin.GotoAsync(_nodes[0].Url + "/admin").WithTimeout();
        // A chat user's session cookie is no admin credential, and neither is a wrong password.
        await SignInAsync(admin, _nodes[0].Url, "not-the-password");
        await admin.GetByText("Invalid credentials").WaitForAsync().WithTimeout();
        await SignInAsync(admin, _nodes[0].Url, AdminPassword);
        await admin.Locator(".v-dialog").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Hidden }).WithTimeout();

        // Sockets of both nodes (the chat's namespace is "/"), and the room "chat" they are in.
        await admin.GotoAsync(_nodes[0].Url + "/admin/#/sockets/").WithTimeout();
        var rows = admin.Locator("table tbody tr");
        await TestTimeouts.Eventually(async () => await rows.CountAsync() >= 2, because: "Ann's and Bob's sockets listed");
        await admin.GetByText(bobId).First.WaitForAsync().WithTimeout();
        await admin.GotoAsync(_nodes[0].Url + "/admin/#/rooms/").WithTimeout();
        // The chat's room (whatever prefix the chat gives its Socket.IO room), with Ann and Bob in it.
        var chatRoom = admin.Locator("table tbody tr", new PageLocatorOptions { HasTextRegex = new System.Text.RegularExpressions.Regex("(^\\s*|:)chat") });
        await chatRoom.First.WaitForAsync().WithTimeout(TimeSpan.FromSeconds(30));
        await admin.GotoAsync(_nodes[0].Url + "/admin/#/").WithTimeout();
        // Both nodes report (2 healthy servers) before the picture is taken.
        await admin.GotoAsync(_nodes[0].Url + "/admin/#/servers/").WithTimeout();
        await TestTimeouts.Eventually(async () => await admin.Locator("table tbody tr").CountAsync() == 2, because: "both servers listed");
        await admin.GotoAsync(_nodes[0].Url + "/admin/#/").WithTimeout();
        await admin.WaitForTimeoutAsync(2500); // one stats period, so the charts have drawn
        // Under artifacts/ (ignored by git): a test run leaves the tree as it found it. README's picture is a copy.
        var images = Path.Combine(RepoPaths.Root, "artifacts", "screenshots");
        Directory.CreateDirectory(images);
        await admin.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(images, "admin-ui.png") }).WithTimeout();

        // Disconnect Bob (served by the other node) from the UI: his page shows it.
        await admin.GotoAsync(_nodes[0].Url + "/admin/#/sockets/").WithTimeout();
        var bobRow = admin.Locator("table tbody tr", new PageLocatorOptions { HasTextString = bobId });
        await bobRow.Locator("button").Last.ClickAsync().WithTimeout();
        await bob.WaitForSelectorAsync("#status.disconnected").WithTimeout();
        Assert.Equal("connected", await ann.Locator("#status").GetAttributeAsync("class").WithTimeout());
    }
}

using Microsoft.Playwright;
using Parley.Testing;

namespace Parley.Chat.Tests;

/// <summary>
/// Headless Chromium (<see cref="Chromium"/>) for the chat's browser tests: a person logs in from a browser context
/// of their own (their own cookies), writes in the page's form, and waits for what the page shows.
/// </summary>
internal sealed class ChatBrowser : IAsyncDisposable
{
    private readonly IPlaywright _playwright;

    private ChatBrowser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    public static async Task<ChatBrowser> LaunchAsync()
    {
        // Playwright starts a driver process of its own: as long as any process start on a loaded machine.
        var playwright = await Playwright.CreateAsync().WithTimeout(TestTimeouts.ProcessStart);
        try
        {
            return new ChatBrowser(playwright, await Chromium.LaunchAsync(playwright));
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>Opens a new browser context on the chat at <paramref name="url"/> and logs in there as <paramref name="name"/>.</summary>
    public async Task<IPage> LoginAsync(string url, string name, ViewportSize? viewport = null)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = viewport ?? new ViewportSize { Width = 1100, Height = 800 } });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync(url + "/").WithTimeout();
        await page.FillAsync("form#login input[name=name]", name).WithTimeout();
        await page.ClickAsync("form#login button[type=submit]").WithTimeout();
        await page.WaitForSelectorAsync("#status.connected").WithTimeout();
        return page;
    }

    public static async Task SendAsync(IPage page, string text)
    {
        await page.FillAsync("form#send input[name=text]", text).WithTimeout();
        await page.PressAsync("form#send input[name=text]", "Enter").WithTimeout();
    }

    public static Task WaitForMessageAsync(IPage page, string text) =>
        page.Locator("#messages li .text", new PageLocatorOptions { HasTextString = text }).First.WaitForAsync().WithTimeout();

    public async ValueTask DisposeAsync()
    {
        await Browser.CloseAsync().WithTimeout();
        _playwright.Dispose();
    }
}

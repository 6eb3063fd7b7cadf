using Microsoft.Playwright;
using Parley.Testing;

namespace Parley.Chat.Tests;

/// <summary>Debian's headless Chromium (/usr/bin/chromium, installed by test.sh) through Playwright, which never downloads a browser here.</summary>
internal static class Chromium
{
    private static readonly string[] s_args =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
    ];

    public static Task<IBrowser> LaunchAsync(IPlaywright playwright) =>
        playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = s_args,
            Timeout = 30_000,
        }).WithTimeout(TimeSpan.FromSeconds(40));
}

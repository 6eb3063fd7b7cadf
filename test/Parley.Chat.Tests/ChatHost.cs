using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Parley.Testing;

namespace Parley.Chat.Tests;

/// <summary>The chat app on a real Kestrel at 127.0.0.1 on a free port.</summary>
public sealed class ChatHost : IAsyncDisposable
{
    public const string Secret = "chat-test-secret";

    private ChatHost(WebApplication app, string url)
    {
        App = app;
        Url = url;
    }

    public WebApplication App { get; }

    public string Url { get; }

    public static Task<ChatHost> StartAsync(params string[] extraArgs) => StartAsync(null, extraArgs);

    /// <summary>Starts the chat with <paramref name="customize"/> applied to its builder after the chat's own set-up.</summary>
    public static async Task<ChatHost> StartAsync(Action<WebApplicationBuilder>? customize, params string[] extraArgs)
    {
        string[] args = ["--urls", "http://127.0.0.1:0", "--secret", Secret, .. extraArgs];
        var app = ChatApp.Create(args, b =>
        {
            b.Logging.ClearProviders();
            b.Logging.AddProvider(TestLog.Provider);
            customize?.Invoke(b);
        });
        await app.StartAsync().WithTimeout();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ChatHost(app, address);
    }

    /// <summary>
    /// <paramref name="count"/> nodes of one cluster: the same secret, everything in the Redis at
    /// <paramref name="redisUrl"/>; returns once every node's adapter sees the others (so a broadcast or a presence
    /// query made right away reaches all of them).
    /// </summary>
    public static async Task<ChatHost[]> StartClusterAsync(string redisUrl, int count, params string[] extraArgs)
    {
        var nodes = new ChatHost[count];
        for (var i = 0; i < count; i++)
        {
            nodes[i] = await StartAsync(["--redis", redisUrl, .. extraArgs]);
        }
        foreach (var node in nodes)
        {
            await node.WaitForServerCountAsync(count).WithTimeout();
        }
        return nodes;
    }

    /// <summary>Waits until this node's adapter counts <paramref name="count"/> nodes (PUBSUB NUMSUB of its request channel).</summary>
    private Task WaitForServerCountAsync(int count)
    {
        var adapter = App.Services.GetRequiredService<Parley.ParleyServer>().Sockets.Adapter;
        return TestTimeouts.Eventually(async () => await adapter.ServerCountAsync() == count, because: $"the server count reaches {count}");
    }

    /// <summary>An HttpClient with its own cookie jar.</summary>
    public (HttpClient Client, CookieContainer Cookies) NewClient()
    {
        var cookies = new CookieContainer();
        var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false })
        {
            BaseAddress = new Uri(Url),
            Timeout = TestTimeouts.Default,
        };
        return (client, cookies);
    }

    /// <summary>Logs in over HTTP and returns the <c>connect.sid</c> cookie pair (<c>connect.sid=…</c>).</summary>
    public async Task<string> LoginAsync(string name)
    {
        var (client, cookies) = NewClient();
        using (client)
        {
            var response = await client.PostAsJsonAsync("/login", new { name }).WithTimeout();
            response.EnsureSuccessStatusCode();
            var cookie = cookies.GetCookies(new Uri(Url))["connect.sid"] ?? throw new InvalidOperationException("no session cookie");
            return "connect.sid=" + cookie.Value;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync().WithTimeout();
        await App.DisposeAsync();
    }
}

using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Parley.Testing;

namespace Parley.Sessions.Tests;

/// <summary>A Kestrel app with the session middleware and endpoints that read and change the session.</summary>
public sealed class SessionApp : IAsyncDisposable
{
    private SessionApp(TestWebHost host, RecordingStore store, HttpClient client)
    {
        Host = host;
        Store = store;
        Client = client;
    }

    public TestWebHost Host { get; }

    public RecordingStore Store { get; }

    public HttpClient Client { get; }

    public ParleySessionManager Manager => Host.Services.GetRequiredService<ParleySessionManager>();

    public static async Task<SessionApp> StartAsync(Action<ParleySessionOptions>? configure = null, TimeProvider? time = null, SessionStore? store = null)
    {
        time ??= TimeProvider.System;
        var recording = new RecordingStore(store ?? new MemorySessionStore(Options.Create(new MemorySessionStoreOptions()), time));
        var host = await TestWebHost.StartAsync(
            b =>
            {
                b.Services.AddSingleton(time);
                b.Services.AddParleySessions(o =>
                {
                    o.Secrets.Add("keyboard cat");
                    configure?.Invoke(o);
                }).UseStore(_ => recording);
            },
            app =>
            {
                app.UseParleySessions();
                MapEndpoints(app, "");
                MapEndpoints(app, "/app");
            });
        var client = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = host.BaseUri };
        return new SessionApp(host, recording, client);
    }

    private static void MapEndpoints(WebApplication app, string prefix)
    {
        app.MapGet(prefix + "/peek", (HttpContext c) =>
            c.TryGetSession(out var s) ? $"{s.IsNew}|{s.Get<int>("n")}|{s.Id}" : "none");
        app.MapPost(prefix + "/inc", (HttpContext c) =>
        {
            var s = c.GetSession();
            s.Set("n", s.Get<int>("n") + 1);
            return s.Get<int>("n").ToString(System.Globalization.CultureInfo.InvariantCulture);
        });
        app.MapPost(prefix + "/destroy", async (HttpContext c) =>
        {
            await c.GetSession().DestroyAsync();
            return "bye";
        });
        app.MapPost(prefix + "/regenerate", async (HttpContext c) =>
        {
            var s = c.GetSession();
            await s.RegenerateAsync();
            s.Set("n", 100);
            return s.Id;
        });
        app.MapPost(prefix + "/unset", (HttpContext c) =>
        {
            c.UnsetSession();
            return "unset";
        });
        app.MapPost(prefix + "/late", async (HttpContext c) =>
        {
            var s = c.GetSession();
            await c.Response.WriteAsync("started");
            await c.Response.Body.FlushAsync();
            s.Set("late", true);
        });
        app.MapGet(prefix + "/signed", (HttpContext c) => c.GetSession().GetSignedValue());
        // "Remember me": a login that picks its own cookie lifetime, or a browser-session cookie (days=0).
        app.MapPost(prefix + "/remember", (HttpContext c, int days) =>
        {
            var s = c.GetSession();
            s.Set("n", s.Get<int>("n") + 1);
            s.Cookie.Expires = days == 0 ? null : c.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().AddDays(days);
            return "ok";
        });
    }

    public async Task<Reply> SendAsync(HttpMethod method, string path, string? cookie = null, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (cookie is not null)
        {
            request.Headers.TryAddWithoutValidation("Cookie", cookie);
        }
        configure?.Invoke(request);
        using var response = await Client.SendAsync(request).WithTimeout();
        var body = await response.Content.ReadAsStringAsync().WithTimeout();
        var setCookies = response.Headers.TryGetValues("Set-Cookie", out var values) ? values.ToArray() : [];
        return new Reply(response.StatusCode, body, setCookies);
    }

    public Task<Reply> GetAsync(string path, string? cookie = null) => SendAsync(HttpMethod.Get, path, cookie);

    public Task<Reply> PostAsync(string path, string? cookie = null) => SendAsync(HttpMethod.Post, path, cookie);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Host.DisposeAsync();
    }
}

public sealed record Reply(HttpStatusCode Status, string Body, string[] SetCookies)
{
    public string? SetCookie => SetCookies.Length switch
    {
        0 => null,
        1 => SetCookies[0],
        _ => throw new InvalidOperationException("several Set-Cookie headers: " + string.Join(" | ", SetCookies)),
    };

    /// <summary>The <c>name=value</c> pair of the Set-Cookie header, to send back as a Cookie header.</summary>
    public string CookiePair => SetCookie?.Split(';')[0] ?? throw new InvalidOperationException("no Set-Cookie");

    public string SessionId
    {
        get
        {
            var signed = Uri.UnescapeDataString(CookiePair["connect.sid=".Length..]);
            return signed[2..signed.LastIndexOf('.')];
        }
    }
}

using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Parley.Testing;

namespace Parley.Load.Tests;

/// <summary>
/// A real Parley on Kestrel with the chat's shape, small enough to read here: <c>POST /login</c> sets a cookie;
/// sockets without it are refused (<c>unauthorized</c>); in <c>/</c> and <c>/admin</c> a socket joins room
/// <c>chat</c>, and <c>message</c> is broadcast to the room and acked.
/// </summary>
public sealed class LoadTestServer : IAsyncDisposable
{
    private LoadTestServer(TestWebHost web)
    {
        Web = web;
    }

    public TestWebHost Web { get; }

    public Uri Url => Web.BaseUri;

    public Uri LoginUrl => new(Web.BaseUri, "/login");

    /// <summary>
    /// Starts the server, pinging every second. A pong may take <paramref name="pingTimeout"/> (20 s by default: a
    /// fan-out as fast as acks allow over polling, with the rest of the suite on both cores, has missed 5 s); the
    /// heartbeat test gives a shorter one, so that a client that never answers is dropped while it watches.
    /// </summary>
    public static async Task<LoadTestServer> StartAsync(TimeSpan? pingTimeout = null)
    {
        var web = await TestWebHost.StartAsync(
            b => b.Services.AddParley(o =>
            {
                o.Engine.PingInterval = TimeSpan.FromSeconds(1);
                o.Engine.PingTimeout = pingTimeout ?? TestTimeouts.Default;
            }),
            app =>
            {
                app.MapPost("/login", async (HttpContext http) =>
                {
                    using var body = await JsonDocument.ParseAsync(http.Request.Body);
                    var name = body.RootElement.GetProperty("name").GetString();
                    http.Response.Cookies.Append("user", name!);
                    return Results.Json(new { name });
                });
                app.MapParley("/socket.io", io =>
                {
                    foreach (var nsp in new[] { io.Sockets, io.Of("/admin") })
                    {
                        nsp.Use((socket, next) =>
                        {
                            if (!socket.Handshake.Headers.TryGetValue("cookie", out var cookie) || !cookie.Contains("user=load", StringComparison.Ordinal))
                            {
                                throw new ParleyConnectionRefusedException("unauthorized");
                            }
                            return next();
                        });
                        nsp.OnConnection(socket =>
                        {
                            socket.Join("chat");
                            socket.On("message", async e =>
                            {
                                await socket.Namespace.To("chat").EmitAsync("message", e.ArgumentsForEmit());
                                await e.AckAsync(new { ok = true });
                            });
                        });
                    }
                });
            });
        return new LoadTestServer(web);
    }

    public ValueTask DisposeAsync() => Web.DisposeAsync();
}

using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Parley.Sessions.SocketIO;
using Parley.Testing;

namespace Parley.Sessions.Tests;

/// <summary>What a <see cref="SocketApp"/> is made of; everything optional.</summary>
public sealed class SocketAppOptions
{
    /// <summary>Session options beyond the "keyboard cat" secret.</summary>
    public Action<ParleySessionOptions>? Sessions { get; init; }

    /// <summary>The store (memory when null).</summary>
    public Action<IParleySessionsBuilder>? Store { get; init; }

    /// <summary>The clock of sessions and stores.</summary>
    public TimeProvider? Time { get; init; }

    /// <summary>Extra services (authentication, the Redis adapter…).</summary>
    public Action<WebApplicationBuilder>? Services { get; init; }

    /// <summary>Middleware and endpoints added before the sessions middleware.</summary>
    public Action<WebApplication>? Pipeline { get; init; }

    /// <summary>Sets up the Socket.IO side; by default <c>io.UseSessions(Sockets)</c>.</summary>
    public Action<ParleyServer>? Io { get; init; }

    /// <summary>The options of the default <c>io.UseSessions()</c>.</summary>
    public Action<SocketSessionOptions>? Sockets { get; init; }
}

/// <summary>
/// HTTP sessions and Parley on one real Kestrel, and the official socket.io-client (driver.mjs) to connect to it:
/// a login over HTTP, then a Socket.IO handshake that carries the cookie (or the signed value in <c>auth</c>).
/// Socket events: <c>whoami</c> acks the session's name (or null), <c>rename</c> reloads, changes and saves it.
/// </summary>
public sealed class SocketApp : IAsyncDisposable
{
    private readonly ParleyTestHost _parley;

    private SocketApp(ParleyTestHost parley)
    {
        _parley = parley;
        Client = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = Host.BaseUri };
    }

    public TestWebHost Host => _parley.Web;

    public HttpClient Client { get; }

    public NodeDriver Driver => _parley.Driver;

    public ParleyServer Io => _parley.Io;

    public ParleySessionManager Manager => Host.Services.GetRequiredService<ParleySessionManager>();

    public string Url => _parley.Url;

    public static async Task<SocketApp> StartAsync(SocketAppOptions? options = null, NodeDriver? driver = null)
    {
        options ??= new SocketAppOptions();
        var parley = await ParleyTestHost.StartAsync(
            io =>
            {
                if (options.Io is { } configure)
                {
                    configure(io);
                }
                else
                {
                    io.UseSessions(options.Sockets);
                }
                io.OnConnection(OnConnection);
            },
            services: b =>
            {
                if (options.Time is { } time)
                {
                    b.Services.AddSingleton(time);
                }
                var sessions = b.Services.AddParleySessions(o =>
                {
                    o.Secrets.Add("keyboard cat");
                    options.Sessions?.Invoke(o);
                });
                options.Store?.Invoke(sessions);
                options.Services?.Invoke(b);
            },
            pipeline: web =>
            {
                options.Pipeline?.Invoke(web);
                web.UseParleySessions();
                MapEndpoints(web);
            },
            driver: driver);
        return new SocketApp(parley);
    }

    private static void MapEndpoints(WebApplication web)
    {
        // Regenerates (against fixation) and returns the value a client without cookies passes in auth.session.
        web.MapPost("/login", async (HttpContext c, string name) =>
        {
            var s = c.GetSession();
            await s.RegenerateAsync();
            s.Set("name", name);
            return s.GetSignedValue();
        });
        web.MapGet("/me", (HttpContext c) =>
            c.TryGetSession(out var s) && s.Get<string>("name") is { } name ? Results.Text(name) : Results.Text("unauthorized", statusCode: 401));
        web.MapPost("/logout", async (HttpContext c) =>
        {
            await c.GetSession().DestroyAsync();
            return "bye";
        });
    }

    private static void OnConnection(ParleySocket socket)
    {
        socket.On("whoami", e => e.AckAsync(socket.GetSession()?.Get<string>("name")));
        socket.On("user", e => e.AckAsync(socket.User.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)?.Value));
        socket.On("rename", async e =>
        {
            var session = socket.GetSession()!;
            try
            {
                await session.ReloadAsync();
                session.Set("name", e.Get<string>(0));
                await session.SaveAsync();
                await e.AckAsync("ok");
            }
            catch (InvalidOperationException ex)
            {
                await e.AckAsync("error: " + ex.Message);
            }
        });
    }

    /// <summary>The server-side socket with this id.</summary>
    public Task<ParleySocket> SocketAsync(string id) => _parley.SocketAsync(id);

    public async Task<Reply> SendAsync(HttpMethod method, string path, string? cookie = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (cookie is not null)
        {
            request.Headers.TryAddWithoutValidation("Cookie", cookie);
        }
        using var response = await Client.SendAsync(request).WithTimeout();
        var body = await response.Content.ReadAsStringAsync().WithTimeout();
        var setCookies = response.Headers.TryGetValues("Set-Cookie", out var values) ? values.ToArray() : [];
        return new Reply(response.StatusCode, body, setCookies);
    }

    /// <summary>Logs in; the reply's body is the signed value, its cookie the session cookie.</summary>
    public Task<Reply> LoginAsync(string name, string? cookie = null) => SendAsync(HttpMethod.Post, "/login?name=" + Uri.EscapeDataString(name), cookie);

    public Task<Reply> MeAsync(string cookie) => SendAsync(HttpMethod.Get, "/me", cookie);

    public Task<Reply> LogoutAsync(string cookie) => SendAsync(HttpMethod.Post, "/logout", cookie);

    /// <summary>Connects an official client (its own Manager, no reconnection) and waits for connect or connect_error.</summary>
    public Task<SioClient> ConnectAsync(string? cookie = null, JsonObject? auth = null, string transport = "websocket", string? origin = null, string path = "") =>
        SioClient.ConnectAsync(Driver, Url + path, cookie, auth, transport, origin);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _parley.DisposeAsync();
    }
}

/// <summary>An official socket.io-client driven by <see cref="NodeDriver"/>: connected (Id) or refused (Error).</summary>
public sealed record SioClient(NodeDriver Driver, string H, string? Id, string? Error)
{
    public bool Connected => Id is not null;

    public static async Task<SioClient> ConnectAsync(NodeDriver driver, string url, string? cookie = null, JsonObject? auth = null, string transport = "websocket", string? origin = null, JsonObject? extraHeaders = null)
    {
        var headers = extraHeaders?.DeepClone().AsObject() ?? new JsonObject();
        if (cookie is not null)
        {
            headers["cookie"] = cookie;
        }
        if (origin is not null)
        {
            headers["origin"] = origin;
        }
        var opts = new JsonObject
        {
            ["transports"] = new JsonArray(transport),
            ["extraHeaders"] = headers,
        };
        if (auth is not null)
        {
            opts["auth"] = auth.DeepClone();
        }
        var h = await driver.CallForHandleAsync("sio.connect", new { url, opts });
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var e in driver.Drain(h))
            {
                if (e.Event == "connect")
                {
                    return new SioClient(driver, h, e.Data!["id"]!.GetValue<string>(), null);
                }
                if (e.Event == "connect_error")
                {
                    return new SioClient(driver, h, null, e.Data!["message"]!.GetValue<string>());
                }
            }
            await Task.Delay(10);
        }
        throw new TimeoutException($"{h}: neither connect nor connect_error; driver stderr: {driver.Stderr}");
    }

    /// <summary><c>socket.timeout(…).emitWithAck(…)</c>: the first argument of the server's ack.</summary>
    public Task<JsonNode?> EmitWithAckAsync(string @event, params object?[] args) =>
        Driver.CallAsync("sio.emit", new { h = H, @event, args, ack = true, timeout = 10_000 });

    /// <summary>The reason of the next <c>disconnect</c>.</summary>
    public async Task<string> DisconnectedAsync() =>
        (await Driver.NextEventAsync(H, "disconnect"))!["reason"]!.GetValue<string>();

    public Task DisconnectAsync() => Driver.CallAsync("sio.disconnect", new { h = H });
}

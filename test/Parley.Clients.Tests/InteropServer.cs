using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Parley.Sessions;
using Parley.Sessions.SocketIO;
using Parley.Testing;

namespace Parley.Clients.Tests;

/// <summary>
/// The server every client library is checked against: one Parley on a real Kestrel with HTTP sessions, accepting
/// Engine.IO v3 clients too (<c>AllowEIO3</c>) and both Socket.IO parsers.
/// <list type="bullet">
/// <item><c>/</c>: <c>echo</c> acks its arguments back; <c>ask</c> asks the client a <c>question</c> (with an ack,
/// binary included) and acks the client's answer back; <c>bin</c> acks the size and first byte of a binary argument
/// and sends it back reversed as <c>bin-back</c>; <c>join</c> joins a room; <c>to-room</c> broadcasts
/// <c>room-event</c> to a room; every socket is in <c>everyone</c>.</item>
/// <item><c>/other</c>: <c>where</c> acks the namespace's name.</item>
/// <item><c>/private</c>: refused by a middleware with "not allowed" and data <c>{code: 7}</c>.</item>
/// <item><c>/members</c>: needs a session (<c>UseSessions</c>); <c>whoami</c> acks the session's name.
/// <c>POST /login?name=</c> logs in over HTTP.</item>
/// </list>
/// </summary>
public sealed class InteropServer : IAsyncLifetime
{
    public const string Secret = "interop secret";

    private ParleyTestHost? _host;
    private readonly Lazy<NodeDriver> _python = new(NodeDriver.StartPython);
    private readonly Lazy<NodeDriver> _v2 = new(() => NodeDriver.Start("driver-v2.mjs"));

    public ParleyTestHost Host => _host ?? throw new InvalidOperationException("not started");

    public string Url => Host.Url;

    /// <summary>The official JS client's driver.</summary>
    public NodeDriver JsDriver => Host.Driver;

    /// <summary>python-socketio's driver, started at first use.</summary>
    public NodeDriver PythonDriver => _python.Value;

    /// <summary>socket.io-client 2.5.0's driver (test/js/driver-v2.mjs), started at first use.</summary>
    public NodeDriver V2Driver => _v2.Value;

    public async Task InitializeAsync()
    {
        _host = await ParleyTestHost.StartAsync(
            Configure,
            options: o =>
            {
                o.Engine.AllowEIO3 = true;
                o.Parsers = [SocketParser.Default, SocketParser.MessagePack];
            },
            services: b => b.Services.AddParleySessions(o => o.Secrets.Add(Secret)),
            pipeline: web =>
            {
                web.UseParleySessions();
                web.MapPost("/login", async (HttpContext c, string name) =>
                {
                    var session = c.GetSession();
                    await session.RegenerateAsync();
                    session.Set("name", name);
                    return "ok";
                });
            });
    }

    private static void Configure(ParleyServer io)
    {
        io.OnConnection(socket =>
        {
            socket.Join("everyone");
            socket.On("echo", e => e.AckAsync(e.ArgumentsForEmit()));
            socket.On("ask", async e =>
            {
                var answer = await socket.Timeout(TestTimeouts.Default).EmitWithAckAsync("question", ["what?", new byte[] { 1, 2, 3 }]);
                await e.AckAsync(answer.Select(a => (object?)a).ToArray());
            });
            socket.On("bin", async e =>
            {
                var bytes = e.Get<byte[]>(0) ?? [];
                await socket.EmitAsync("bin-back", bytes.Reverse().ToArray());
                await e.AckAsync(new { length = bytes.Length, first = bytes.Length > 0 ? bytes[0] : -1 });
            });
            socket.On("join", async e =>
            {
                socket.Join(e.Get<string>(0)!);
                await e.AckAsync(true);
            });
            socket.On("to-room", e => socket.Namespace.To(e.Get<string>(0)!).EmitAsync("room-event", e.Get<string>(0)));
        });
        io.Of("/other").OnConnection(socket => socket.On("where", e => e.AckAsync(socket.Namespace.Name)));
        io.Of("/private").Use((_, _) => throw new ParleyConnectionRefusedException("not allowed", new { code = 7 }));
        var members = io.Of("/members");
        members.UseSessions();
        members.OnConnection(socket => socket.On("whoami", e => e.AckAsync(socket.GetSession()?.Get<string>("name"))));
    }

    /// <summary>Logs <paramref name="name"/> in over HTTP and returns the session cookie (<c>connect.sid=…</c>).</summary>
    public async Task<string> LoginAsync(string name)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = new Uri(Url) };
        using var response = await http.PostAsync("/login?name=" + Uri.EscapeDataString(name), null).WithTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        return setCookie[..setCookie.IndexOf(';', StringComparison.Ordinal)];
    }

    public async Task DisposeAsync()
    {
        if (_python.IsValueCreated)
        {
            await _python.Value.DisposeAsync();
        }
        if (_v2.IsValueCreated)
        {
            await _v2.Value.DisposeAsync();
        }
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }
}

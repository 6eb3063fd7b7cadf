using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Parley.Testing;

/// <summary>
/// A Parley server at <c>/socket.io</c> on a real Kestrel (<see cref="TestWebHost"/>), with a <see cref="NodeDriver"/>
/// for the official clients; remembers the server-side sockets of every namespace by id, so that tests can act on
/// the socket behind a client.
/// </summary>
public sealed class ParleyTestHost : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, ParleySocket> _sockets = new(StringComparer.Ordinal);

    private ParleyTestHost()
    {
    }

    /// <summary>The web host.</summary>
    public TestWebHost Web { get; private set; } = null!;

    /// <summary>The server.</summary>
    public ParleyServer Io { get; private set; } = null!;

    /// <summary>The driver of the official clients.</summary>
    public NodeDriver Driver { get; private set; } = null!;

    /// <summary><c>http://127.0.0.1:PORT</c>.</summary>
    public string Url => Web.Url;

    /// <summary>Server-side disconnect reasons by socket id.</summary>
    public ConcurrentDictionary<string, string> DisconnectReasons { get; } = new(StringComparer.Ordinal);

    /// <summary>Short heartbeats so closed connections are noticed quickly on a shared machine.</summary>
    public static void FastOptions(ParleyOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        o.Engine.PingInterval = TimeSpan.FromMilliseconds(1000);
        o.Engine.PingTimeout = TimeSpan.FromMilliseconds(2000);
    }

    /// <summary>
    /// Starts the host: <c>AddParley</c> with <see cref="FastOptions"/> and <paramref name="options"/>, then
    /// <paramref name="services"/>; <paramref name="pipeline"/> before <c>MapParley</c>, whose callback is
    /// <paramref name="configure"/>. Without a <paramref name="driver"/>, starts one; the host disposes it either way.
    /// </summary>
    public static async Task<ParleyTestHost> StartAsync(
        Action<ParleyServer> configure,
        Action<ParleyOptions>? options = null,
        Action<WebApplicationBuilder>? services = null,
        Action<WebApplication>? pipeline = null,
        NodeDriver? driver = null)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var host = new ParleyTestHost();
        host.Web = await TestWebHost.StartAsync(
            b =>
            {
                b.Services.AddParley(o =>
                {
                    FastOptions(o);
                    options?.Invoke(o);
                });
                services?.Invoke(b);
            },
            app =>
            {
                pipeline?.Invoke(app);
                app.MapParley("/socket.io", io =>
                {
                    host.Io = io;
                    io.NamespaceCreated += host.Track;
                    foreach (var nsp in io.Namespaces)
                    {
                        host.Track(nsp);
                    }
                    _ = io.Sockets;
                    configure(io);
                });
            });
        host.Driver = driver ?? NodeDriver.Start();
        return host;
    }

    private void Track(Namespace nsp) => nsp.OnConnection(Track);

    private void Track(ParleySocket socket)
    {
        _sockets[socket.Id] = socket;
        socket.Disconnected += (s, reason) => DisconnectReasons[s.Id] = reason;
    }

    /// <summary>The server-side socket with this id (the client's <c>socket.id</c>).</summary>
    public async Task<ParleySocket> SocketAsync(string id)
    {
        ParleySocket? socket = null;
        await TestTimeouts.Eventually(() => _sockets.TryGetValue(id, out socket), because: "server socket " + id);
        return socket!;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Driver.DisposeAsync();
        await Web.DisposeAsync();
    }
}

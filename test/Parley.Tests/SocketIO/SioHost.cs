using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Parley.Testing;

namespace Parley.Tests.SocketIO;

/// <summary>
/// A Parley server on a real Kestrel for one test class, with the official socket.io-client driven by
/// <see cref="NodeDriver"/>; remembers its server-side sockets by id so tests can act on them directly.
/// </summary>
public sealed class SioHost : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, ParleySocket> _sockets = new(StringComparer.Ordinal);

    private SioHost()
    {
    }

    public TestWebHost Web { get; private set; } = null!;

    public ParleyServer Io { get; private set; } = null!;

    public NodeDriver Driver { get; private set; } = null!;

    public string Url => Web.Url;

    /// <summary>Server-side disconnect reasons by socket id.</summary>
    public ConcurrentDictionary<string, string> DisconnectReasons { get; } = new(StringComparer.Ordinal);

    /// <summary>Short heartbeats so closed connections are noticed quickly on a shared machine.</summary>
    public static void FastOptions(ParleyOptions o)
    {
        o.Engine.PingInterval = TimeSpan.FromMilliseconds(1000);
        o.Engine.PingTimeout = TimeSpan.FromMilliseconds(2000);
    }

    public static async Task<SioHost> StartAsync(Action<ParleyServer> configure, Action<ParleyOptions>? options = null)
    {
        var host = new SioHost();
        host.Web = await TestWebHost.StartAsync(
            b => b.Services.AddParley(o =>
            {
                FastOptions(o);
                options?.Invoke(o);
            }),
            app => app.MapParley("/socket.io", io =>
            {
                host.Io = io;
                io.NamespaceCreated += nsp => nsp.OnConnection(host.Track);
                _ = io.Sockets;
                configure(io);
            }));
        host.Driver = NodeDriver.Start();
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

    public static object TransportOptions(string transport) => transport switch
    {
        "polling" => new { transports = new[] { "polling" } },
        "websocket" => new { transports = new[] { "websocket" } },
        "upgrade" => new { },
        _ => throw new ArgumentOutOfRangeException(nameof(transport)),
    };

    /// <summary>Connects a client over <paramref name="transport"/>; with "upgrade", waits for the switch to WebSocket.</summary>
    public async Task<Client> ConnectAsync(string transport, JsonObject? extra = null, string path = "")
    {
        var opts = JsonSerializer.SerializeToNode(TransportOptions(transport))!.AsObject();
        if (extra is not null)
        {
            foreach (var (k, v) in extra)
            {
                opts[k] = v?.DeepClone();
            }
        }
        var h = await Driver.CallForHandleAsync("sio.connect", new { url = Url + path, opts });
        // The upgrade may be reported before or after "connect" (NextEventAsync would skip the other one).
        var id = await WaitConnectAndUpgradeAsync(h, transport == "upgrade");
        return new Client(this, h, id, await SocketAsync(id));
    }

    private async Task<string> WaitConnectAndUpgradeAsync(string h, bool upgrade)
    {
        string? id = null;
        var upgraded = !upgrade;
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (id is null || !upgraded)
        {
            foreach (var e in Driver.Drain(h))
            {
                if (e.Event == "connect")
                {
                    id = e.Data!["id"]!.GetValue<string>();
                }
                else if (e.Event == "upgrade")
                {
                    upgraded = true;
                }
                else if (e.Event == "connect_error")
                {
                    throw new InvalidOperationException("connect_error: " + e.Data?.ToJsonString());
                }
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{h}: connected={id is not null}, upgraded={upgraded}");
            }
            await Task.Delay(10);
        }
        return id;
    }

    public async ValueTask DisposeAsync()
    {
        await Driver.DisposeAsync();
        await Web.DisposeAsync();
    }

    /// <summary>A connected official client and its server-side socket.</summary>
    public sealed record Client(SioHost Host, string H, string Id, ParleySocket Socket)
    {
        public Task<JsonNode?> EmitAsync(string @event, params object?[] args) =>
            Host.Driver.CallAsync("sio.emit", new { h = H, @event, args });

        /// <summary>socket.emitWithAck: resolves with the first argument of the server's ack.</summary>
        public Task<JsonNode?> EmitWithAckAsync(string @event, object?[] args, int? timeout = null) =>
            Host.Driver.CallAsync("sio.emit", new { h = H, @event, args, ack = true, timeout });

        public Task<JsonArray> NextAsync(string @event, TimeSpan? timeout = null) => Host.Driver.NextSocketEventAsync(H, @event, timeout);

        public Task<JsonNode?> NextEventAsync(string @event, TimeSpan? timeout = null) => Host.Driver.NextEventAsync(H, @event, timeout);

        public Task AckWithAsync(string @event, params object?[] reply) => Host.Driver.CallAsync("sio.ackWith", new { h = H, @event, reply });

        /// <summary>Names of every event received until <paramref name="sentinel"/> (included), without skipping any.</summary>
        public async Task<List<string>> CollectUntilAsync(string sentinel)
        {
            var names = new List<string>();
            var deadline = DateTime.UtcNow + TestTimeouts.Default;
            while (!names.Contains(sentinel))
            {
                names.AddRange(Host.Driver.Drain(H).Where(e => e.Event == "event").Select(e => e.Data!["name"]!.GetValue<string>()));
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException("no " + sentinel + " for " + H);
                }
                await Task.Delay(10);
            }
            return names;
        }

        public Task DisconnectAsync() => Host.Driver.CallAsync("sio.disconnect", new { h = H });
    }
}

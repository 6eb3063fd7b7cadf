using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Parley.Testing;

namespace Parley.Tests.SocketIO;

/// <summary>
/// A Parley server on a real Kestrel for one test class (<see cref="ParleyTestHost"/>), with the official
/// socket.io-client driven by <see cref="NodeDriver"/>; connects clients and hands back their server-side sockets.
/// </summary>
public sealed class SioHost : IAsyncDisposable
{
    private readonly ParleyTestHost _host;

    private SioHost(ParleyTestHost host) => _host = host;

    public TestWebHost Web => _host.Web;

    public ParleyServer Io => _host.Io;

    public NodeDriver Driver => _host.Driver;

    public string Url => _host.Url;

    /// <summary>Server-side disconnect reasons by socket id.</summary>
    public ConcurrentDictionary<string, string> DisconnectReasons => _host.DisconnectReasons;

    public static async Task<SioHost> StartAsync(Action<ParleyServer> configure, Action<ParleyOptions>? options = null) =>
        new(await ParleyTestHost.StartAsync(configure, options));

    /// <summary>The server-side socket with this id (the client's <c>socket.id</c>).</summary>
    public Task<ParleySocket> SocketAsync(string id) => _host.SocketAsync(id);

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

    public ValueTask DisposeAsync() => _host.DisposeAsync();

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

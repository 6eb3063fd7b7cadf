using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Parley.Redis;
using Parley.Testing;

namespace Parley.Redis.Tests;

/// <summary>A Parley node on Kestrel with the Redis adapter; its clients join <c>auth.rooms</c> and take <c>auth.data</c>.</summary>
public sealed class ParleyNode : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, JsonNode?> _serverReplies = new();

    private ParleyNode(TestWebHost host) => Host = host;

    public TestWebHost Host { get; }

    public string Url => Host.Url;

    public ParleyServer Io => Host.Services.GetRequiredService<ParleyServer>();

    /// <summary>Server-side events received from other nodes: (event, args as JSON).</summary>
    public Channel<(string Event, string Args)> ServerEvents { get; } = Channel.CreateUnbounded<(string, string)>();

    internal RedisAdapterBase Adapter => (RedisAdapterBase)Io.Sockets.Adapter;

    public RedisAdapterStatus Status => Host.Services.GetRequiredService<RedisAdapterStatus>();

    /// <summary>
    /// Starts a node and, unless <paramref name="waitUntilReady"/> is false, waits until its Redis connections are up
    /// and the namespaces' subscriptions confirmed: a publish before that would be dropped (the command connection
    /// fails fast while connecting), and a broadcast from another node would be missed.
    /// </summary>
    public static async Task<ParleyNode> StartAsync(string redisUrl, bool sharded, Action<RedisAdapterOptions>? configure = null, string[]? namespaces = null, bool waitUntilReady = true, TimeProvider? time = null, Action<ParleyServer>? configureServer = null, Action<RedisStreamsAdapterOptions>? streams = null, Action<ParleyOptions>? parley = null)
    {
        ParleyNode? node = null;
        var host = await TestWebHost.StartAsync(
            b =>
            {
                if (time is not null)
                {
                    b.Services.AddSingleton(time);
                }
                if (streams is not null)
                {
                    // The Redis Streams adapter (Streams/) instead of the pub/sub ones.
                    b.Services.AddParley(o => parley?.Invoke(o)).AddRedisStreams(redisUrl, o =>
                    {
                        o.RequestsTimeout = TimeSpan.FromSeconds(3);
                        streams(o);
                    });
                }
                else
                {
                    b.Services.AddParley(o => parley?.Invoke(o)).AddRedis(redisUrl, o =>
                    {
                        o.Sharded = sharded;
                        o.RequestsTimeout = TimeSpan.FromSeconds(3);
                        configure?.Invoke(o);
                    });
                }
                b.Services.AddHealthChecks().AddParleyRedis(failureStatus: Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded);
            },
            app => app.MapParley("/socket.io", io =>
            {
                io.OnConnection(OnConnection);
                foreach (var name in namespaces ?? [])
                {
                    io.Of(name).OnConnection(OnConnection);
                }
                configureServer?.Invoke(io);
            }));
        node = new ParleyNode(host);
        _ = node.Io.Sockets; // creates "/" and starts its adapter
        if (waitUntilReady)
        {
            await node.Status.WaitUntilReadyAsync().WithTimeout();
        }
        return node;
    }

    private static void OnConnection(ParleySocket socket)
    {
        var auth = socket.Handshake.Auth;
        if (auth.ValueKind == JsonValueKind.Object && auth.TryGetProperty("rooms", out var rooms))
        {
            socket.Join(rooms.EnumerateArray().Select(r => r.GetString()!).ToArray());
        }
        if (auth.ValueKind == JsonValueKind.Object && auth.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in data.EnumerateObject())
            {
                socket.Data[p.Name] = p.Value.Clone();
            }
        }
    }

    /// <summary>Handles server-side event <paramref name="eventName"/>, answering acks with <paramref name="reply"/>.</summary>
    public void OnServer(string eventName, object? reply)
    {
        _serverReplies[eventName] = reply is null ? null : JsonSerializer.SerializeToNode(reply);
        Io.On(eventName, async e =>
        {
            ServerEvents.Writer.TryWrite((e.Name, "[" + string.Join(",", e.Arguments.Select(a => a.ToString())) + "]"));
            if (e.HasAck)
            {
                await e.AckAsync(_serverReplies[eventName]);
            }
        });
    }

    public async Task<(string Event, string Args)> NextServerEventAsync() =>
        await ServerEvents.Reader.ReadAsync().AsTask().WithTimeout();

    public ValueTask DisposeAsync() => Host.DisposeAsync();
}

/// <summary>test/js/redis-peer.mjs: a Node socket.io 4.8 server with @socket.io/redis-adapter 8.3.</summary>
public sealed class NodePeer : IAsyncDisposable
{
    private NodePeer(NodeDriver driver, int port)
    {
        Driver = driver;
        Url = $"http://127.0.0.1:{port}";
    }

    public NodeDriver Driver { get; }

    public string Url { get; }

    /// <summary>
    /// Starts the peer; <paramref name="key"/> is <c>key</c> (classic) or <c>channelPrefix</c> (sharded);
    /// <paramref name="namespaces"/> are served besides "/"; <paramref name="cluster"/>: the URL is a Redis Cluster's
    /// seed list, reached with an ioredis Cluster client.
    /// </summary>
    public static async Task<NodePeer> StartAsync(string redisUrl, bool sharded, string? key = null, string[]? namespaces = null, bool streams = false, bool recovery = false, bool cluster = false)
    {
        var environment = new Dictionary<string, string>
        {
            ["PEER_MODE"] = streams ? "streams" : sharded ? "sharded" : "classic",
            ["PEER_REDIS"] = redisUrl,
        };
        if (recovery)
        {
            environment["PEER_RECOVERY"] = "1";
        }
        if (key is not null)
        {
            environment["PEER_KEY"] = key;
        }
        if (namespaces is { Length: > 0 })
        {
            environment["PEER_NAMESPACES"] = string.Join(",", namespaces);
        }
        if (cluster)
        {
            environment["PEER_CLUSTER"] = "1";
        }
        var driver = NodeDriver.Start("redis-peer.mjs", environment);
        var listening = await driver.NextEventAsync("peer", "listening");
        return new NodePeer(driver, listening!["port"]!.GetValue<int>());
    }

    public Task<JsonNode?> CallAsync(string op, object? args = null) => Driver.CallAsync(op, args);

    public async ValueTask DisposeAsync() => await Driver.DisposeAsync();
}

/// <summary>socket.io-client instances (driver.mjs) connected to any node.</summary>
public static class Clients
{
    /// <summary>Connects a websocket client that joins <paramref name="rooms"/>; returns its handle and socket id.</summary>
    public static async Task<(string Handle, string Id)> ConnectAsync(this NodeDriver driver, string url, string[] rooms, object? data = null)
    {
        var h = await driver.CallForHandleAsync("sio.connect", new { url, opts = new { transports = new[] { "websocket" }, auth = new { rooms, data } } });
        var connect = await driver.NextEventAsync(h, "connect");
        return (h, connect!["id"]!.GetValue<string>());
    }

    /// <summary>The next socket.io event of a client, whatever its name: (name, args JSON).</summary>
    public static async Task<(string Name, JsonArray Args)> NextAnyEventAsync(this NodeDriver driver, string h, TimeSpan? timeout = null)
    {
        var e = await driver.NextEventAsync(h, "event", timeout);
        return (e!["name"]!.GetValue<string>(), e["args"]!.AsArray());
    }

    /// <summary>
    /// Asserts that the next event of a client is <paramref name="name"/>: used after something that must NOT reach
    /// it, followed by a marker that must, so no fixed waiting window is needed.
    /// </summary>
    public static async Task<JsonArray> ExpectNextAsync(this NodeDriver driver, string h, string name)
    {
        var (actual, args) = await driver.NextAnyEventAsync(h);
        Assert.Equal(name, actual);
        return args;
    }
}

public static class Wait
{
    public static Task ForServerCountAsync(Func<Task<int>> count, int expected) =>
        TestTimeouts.Eventually(async () => await count() == expected, because: $"the server count reaches {expected}");

    /// <summary>
    /// Sharded dynamic mode subscribes a room's channel asynchronously on join: waits until <paramref name="nodes"/>
    /// nodes are subscribed to it (<c>PUBSUB SHARDNUMSUB</c>).
    /// </summary>
    public static Task ForRoomChannelAsync(IRedisDeployment redis, string room, int nodes, string nsp = "/", string prefix = "socket.io") =>
        TestTimeouts.Eventually(
            async () => await redis.ShardSubscribersAsync(prefix + "#" + nsp + "#" + room + "#") == nodes,
            because: $"the channel of room {room} has {nodes} subscriber(s)");
}

/// <summary>
/// A tick stream for fault tests: node A broadcasts <c>tick</c> with a rising number every 20 ms (never waiting on
/// Redis: a failed publish is logged and dropped) and one client on B records what arrives, with when.
/// </summary>
public sealed class Ticks
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private Task _ticker = Task.CompletedTask;
    private Task _reader = Task.CompletedTask;
    private long _seq;

    private Ticks()
    {
    }

    /// <summary>What the client received: the tick's number and when, since the start.</summary>
    public ConcurrentQueue<(long Seq, TimeSpan At)> Received { get; } = new();

    /// <summary>The number of the last tick published.</summary>
    public long Last => Interlocked.Read(ref _seq);

    public TimeSpan Elapsed => _clock.Elapsed;

    public static Ticks Start(ParleyNode a, NodeDriver clients, string handle)
    {
        var ticks = new Ticks();
        ticks._ticker = Task.Run(async () =>
        {
            while (!ticks._stop.IsCancellationRequested)
            {
                await a.Io.EmitAsync("tick", Interlocked.Increment(ref ticks._seq)).WithTimeout();
                await Task.Delay(20, CancellationToken.None);
            }
        });
        ticks._reader = Task.Run(async () =>
        {
            while (!ticks._stop.IsCancellationRequested)
            {
                try
                {
                    var (name, args) = await clients.NextAnyEventAsync(handle, TimeSpan.FromMilliseconds(500));
                    if (name == "tick")
                    {
                        ticks.Received.Enqueue((args[0]!.GetValue<long>(), ticks._clock.Elapsed));
                    }
                }
                catch (TimeoutException)
                {
                }
            }
        });
        return ticks;
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_ticker, _reader).WithTimeout();
        _stop.Dispose();
    }
}

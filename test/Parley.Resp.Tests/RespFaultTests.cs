using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Parley.Testing;

namespace Parley.Resp.Tests;

/// <summary>Each test owns its server, because they kill it.</summary>
public class RespFaultTests
{
    [Fact]
    public async Task Killed_server_fails_pending_commands_promptly_and_the_connection_comes_back()
    {
        await using var redis = await RedisServer.StartAsync();
        var options = RespConnectionOptions.Parse(redis.Url);
        options.CommandTimeout = TimeSpan.FromSeconds(30); // so only the connection loss can end the pending command
        await using var c = new RespConnection(options);
        var events = new ConcurrentQueue<string>();
        c.Connected += () => events.Enqueue("up");
        c.Disconnected += _ => events.Enqueue("down");
        await c.ConnectAsync().WithTimeout();
        Assert.Equal("1", (await c.ExecuteAsync("ECHO", "1").WithTimeout()).AsString());

        // A command that is still waiting when the server dies: BLPOP blocks server-side.
        var pending = c.ExecuteAsync("BLPOP", "never", "0");
        await Task.Delay(100).WithTimeout();
        var stopwatch = Stopwatch.StartNew();
        await redis.KillAsync();
        await Assert.ThrowsAsync<RespConnectionException>(() => pending).WithTimeout();
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"pending command failed after {stopwatch.Elapsed}");

        // Down: fail fast, no queueing.
        await TestTimeouts.Eventually(() => !c.IsConnected);
        await Assert.ThrowsAsync<RespConnectionException>(() => c.ExecuteAsync("PING")).WithTimeout(TimeSpan.FromSeconds(1));

        await redis.RestartAsync();
        await c.WaitForConnectedAsync().WithTimeout();
        Assert.Equal("back", (await c.ExecuteAsync("ECHO", "back").WithTimeout()).AsString());
        Assert.Equal(["up", "down", "up"], events.ToArray()[..3]);
    }

    [Fact]
    public async Task Subscriptions_are_restored_after_a_restart_and_messages_flow_again()
    {
        await using var redis = await RedisServer.StartAsync();
        var received = new ConcurrentQueue<RespMessage>();
        await using var sub = new RespSubscriber(RespConnectionOptions.Parse(redis.Url), (in RespMessage m) => received.Enqueue(m));
        await using var pub = new RespConnection(RespConnectionOptions.Parse(redis.Url));
        await sub.ConnectAsync().WithTimeout();
        await pub.ConnectAsync().WithTimeout();
        await sub.SubscribeAsync("socket.io-request#/#").WithTimeout();
        await sub.PSubscribeAsync("socket.io#/#*").WithTimeout();
        await sub.SSubscribeAsync("socket.io#/#abc#").WithTimeout();

        await redis.StopAsync();
        await TestTimeouts.Eventually(() => !sub.IsConnected && !pub.IsConnected);
        await redis.RestartAsync();
        await sub.WaitForConnectedAsync().WithTimeout();
        await pub.WaitForConnectedAsync().WithTimeout();

        // Connected is raised after the subscriptions are back, so counts are right at once.
        Assert.Equal(1, await pub.PubSubNumSubAsync("socket.io-request#/#").WithTimeout());
        Assert.Equal(1, await pub.PubSubShardNumSubAsync("socket.io#/#abc#").WithTimeout());
        Assert.Equal(1, await pub.PublishAsync("socket.io-request#/#", "req").WithTimeout());
        Assert.Equal(1, await pub.PublishAsync("socket.io#/#r1#", new byte[] { 0x93, 0xa1 }).WithTimeout());
        Assert.Equal(1, await pub.SPublishAsync("socket.io#/#abc#", "shard").WithTimeout());
        await TestTimeouts.Eventually(() => received.Count >= 3);
        var all = received.ToArray();
        Assert.Contains(all, m => m.Kind == RespMessageKind.Message && Encoding.UTF8.GetString(m.Payload.Span) == "req");
        Assert.Contains(all, m => m.Kind == RespMessageKind.PatternMessage && m.Pattern == "socket.io#/#*" && m.Payload.Span.SequenceEqual(new byte[] { 0x93, 0xa1 }));
        Assert.Contains(all, m => m.Kind == RespMessageKind.ShardMessage && m.Channel == "socket.io#/#abc#");
    }

    [Fact]
    public async Task Garbage_from_the_server_drops_the_connection_and_it_reconnects()
    {
        // A fake server that sends a bad byte on its first connection and behaves afterwards.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var connections = 0;
        var server = Task.Run(async () =>
        {
            while (true)
            {
                var client = await listener.AcceptTcpClientAsync();
                var n = Interlocked.Increment(ref connections);
                _ = Task.Run(async () =>
                {
                    using var _ = client;
                    var stream = client.GetStream();
                    var buffer = new byte[4096];
                    while (await stream.ReadAsync(buffer) > 0)
                    {
                        await stream.WriteAsync(n == 1 ? "?garbage\r\n"u8.ToArray() : "+PONG\r\n"u8.ToArray());
                    }
                });
            }
        });
        await using var c = new RespConnection(new RespConnectionOptions { Port = port });
        await c.ConnectAsync().WithTimeout();
        await Assert.ThrowsAsync<RespConnectionException>(() => c.ExecuteAsync("PING")).WithTimeout();
        await c.WaitForConnectedAsync().WithTimeout();
        Assert.Equal("PONG", (await c.ExecuteAsync("PING").WithTimeout()).AsString());
        Assert.True(connections >= 2);
        listener.Stop();
    }

    [Fact]
    public async Task Auth_with_requirepass_and_acl_user()
    {
        await using var redis = await RedisServer.StartAsync("--requirepass", "s3cret");
        await using (var bad = new RespConnection(RespConnectionOptions.Parse($"redis://:wrong@127.0.0.1:{redis.Port}")))
        {
            var e = await Assert.ThrowsAsync<RespConnectionException>(() => bad.ConnectAsync()).WithTimeout();
            Assert.IsType<RespServerException>(e.InnerException);
        }
        await using (var noAuth = new RespConnection(RespConnectionOptions.Parse(redis.Url)))
        {
            await noAuth.ConnectAsync().WithTimeout();
            var e = await Assert.ThrowsAsync<RespServerException>(() => noAuth.ExecuteAsync("GET", "k")).WithTimeout();
            Assert.Equal("NOAUTH", e.Prefix);
        }
        await using var good = new RespConnection(RespConnectionOptions.Parse($"redis://:s3cret@127.0.0.1:{redis.Port}/2"));
        await good.ConnectAsync().WithTimeout();
        Assert.True(await good.SetAsync("k", "v").WithTimeout());

        // ACL user form: AUTH user password.
        Assert.Equal("OK", await redis.CliAsync("-a", "s3cret", "--no-auth-warning", "ACL", "SETUSER", "alice", "on", ">alicepw", "~*", "+@all"));
        await using var alice = new RespConnection(RespConnectionOptions.Parse($"redis://alice:alicepw@127.0.0.1:{redis.Port}"));
        await alice.ConnectAsync().WithTimeout();
        Assert.Equal("alice", (await alice.ExecuteAsync("ACL", "WHOAMI").WithTimeout()).AsString());
    }
}

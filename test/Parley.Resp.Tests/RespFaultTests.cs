using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
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
        // Well under the 30 s command timeout: the lost connection, not the timeout, failed it.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"pending command failed after {stopwatch.Elapsed}");

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
        // A fake server that answers the handshake's PING on its first connection, then sends a bad byte; it behaves
        // on later connections.
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
                    var reads = 0;
                    while (await stream.ReadAsync(buffer) > 0)
                    {
                        await stream.WriteAsync(n == 1 && ++reads > 1 ? "?garbage\r\n"u8.ToArray() : "+PONG\r\n"u8.ToArray());
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

    [Fact]
    public async Task A_stopped_server_is_noticed_by_ping_on_both_connections_with_bounded_queues_and_both_recover()
    {
        await using var redis = await RedisServer.StartAsync();
        var options = RespConnectionOptions.Parse(redis.Url);
        options.CommandTimeout = TimeSpan.FromSeconds(1);
        options.ConnectTimeout = TimeSpan.FromSeconds(1);
        options.PingInterval = TimeSpan.FromMilliseconds(200);
        options.MaxPendingCommands = 500;
        var received = new ConcurrentQueue<string>();
        await using var sub = new RespSubscriber(options, (in RespMessage m) => received.Enqueue(Encoding.UTF8.GetString(m.Payload.Span)));
        await using var pub = new RespConnection(options);
        var lost = new ConcurrentQueue<string>();
        sub.Disconnected += e => lost.Enqueue("sub: " + e.Message);
        pub.Disconnected += e => lost.Enqueue("pub: " + e.Message);
        await sub.ConnectAsync().WithTimeout();
        await pub.ConnectAsync().WithTimeout();
        await sub.SubscribeAsync("stop-test").WithTimeout();

        await redis.PauseAsync();
        try
        {
            var stopwatch = Stopwatch.StartNew();
            // Publish as fast as possible while nothing answers: the queue stops at its cap and refuses the rest.
            var payload = new byte[1024];
            var (queueFull, notConnected, maxPending) = (0, 0, 0);
            var publishes = new List<Task>();
            while ((sub.IsConnected || pub.IsConnected) && stopwatch.Elapsed < TimeSpan.FromSeconds(10))
            {
                var task = pub.PublishAsync("stop-test", payload);
                if (task.IsFaulted)
                {
                    _ = task.Exception!.InnerException is RespQueueFullException ? queueFull++ : notConnected++;
                }
                else
                {
                    publishes.Add(task);
                }
                maxPending = Math.Max(maxPending, pub.QueueState.Pending);
                await Task.Yield();
            }
            var noticed = stopwatch.Elapsed;
            Assert.False(sub.IsConnected, "the subscriber noticed the hang");
            Assert.False(pub.IsConnected, "the command connection noticed the hang");
            // PING every 200 ms, no reply within 1 s: noticed in about 1.2 s; generous for a shared machine.
            Assert.True(noticed < TimeSpan.FromSeconds(5), $"noticed after {noticed}");
            Assert.InRange(maxPending, 1, 500);
            Assert.True(queueFull > 0, "commands past the cap were refused");
            // Everything that was queued ended (timed out or failed with the connection), nothing hangs.
            await Task.WhenAll(publishes).WithTimeout().ContinueWith(_ => { });
            Assert.All(publishes, t => Assert.True(t.IsFaulted));
            await TestTimeouts.Eventually(() => lost.Any(l => l.StartsWith("sub: ", StringComparison.Ordinal) && l.Contains("did not answer PING", StringComparison.Ordinal)));

            // Still stopped: reconnect attempts do not count a TCP connect as up (the handshake PING is unanswered).
            await Task.Delay(1500).WithTimeout();
            Assert.False(sub.IsConnected || pub.IsConnected);
        }
        finally
        {
            await redis.ResumeAsync();
        }
        await sub.WaitForConnectedAsync().WithTimeout();
        await pub.WaitForConnectedAsync().WithTimeout();
        Assert.Equal(1, await pub.PubSubNumSubAsync("stop-test").WithTimeout());
        Assert.Equal(1, await pub.PublishAsync("stop-test", "after").WithTimeout());
        await TestTimeouts.Eventually(() => received.Contains("after"));
    }

    [Fact]
    public async Task A_command_larger_than_the_byte_cap_is_refused_at_once()
    {
        await using var redis = await RedisServer.StartAsync();
        var options = RespConnectionOptions.Parse(redis.Url);
        options.MaxQueuedBytes = 64 * 1024;
        await using var c = new RespConnection(options);
        await c.ConnectAsync().WithTimeout();
        var e = await Assert.ThrowsAsync<RespQueueFullException>(() => c.SetAsync("big", new byte[100_000])).WithTimeout();
        Assert.Contains("full", e.Message, StringComparison.Ordinal);
        Assert.True(await c.SetAsync("small", new byte[1000]).WithTimeout());
        // The write loop gives the bytes back after its flush, which may be just after the reply arrived.
        await TestTimeouts.Eventually(() => c.QueueState == (0, 0L));
    }

    [Fact]
    public async Task Each_retry_waits_the_delay_its_failure_logged()
    {
        // Nothing listens: every attempt is refused at once and logged (3002) with the delay before the next one.
        var time = new DelayRecorder();
        var log = new TestLog();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(log));
        var options = new RespConnectionOptions { Port = LoopbackPort.Free(), ReconnectMinDelay = TimeSpan.FromMilliseconds(20), ReconnectMaxDelay = TimeSpan.FromMilliseconds(80) };
        Task loop;
        await using (var c = new RespConnection(options, loggers.CreateLogger<RespConnection>(), time))
        {
            loop = c.StartConnecting();
            await TestTimeouts.Eventually(() => Retries(log).Length >= 5 && time.Delays.Length >= 5);
        }
        // Disposal ended the loop before it returned.
        Assert.True(loop.IsCompletedSuccessfully);
        var logged = Retries(log);
        var waited = time.Delays;
        // Task.Delay keeps whole milliseconds; a fresh jitter would differ by up to half the backoff.
        for (var i = 0; i < 5; i++)
        {
            Assert.True(Math.Abs((waited[i] - logged[i]).TotalMilliseconds) < 1, $"retry {i + 1} logged {logged[i]} but waited {waited[i]}");
        }
    }

    private static TimeSpan[] Retries(TestLog log) =>
        [.. log.Entries.Where(e => e.EventId.Id == 3002).Select(e => TimeSpan.Parse(e.Message[(e.Message.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture))];

    /// <summary>The system clock, remembering the due time of each one-shot timer (Task.Delay makes one per wait).</summary>
    private sealed class DelayRecorder : TimeProvider
    {
        private readonly ConcurrentQueue<TimeSpan> _delays = new();

        public TimeSpan[] Delays => [.. _delays];

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            if (period == Timeout.InfiniteTimeSpan)
            {
                _delays.Enqueue(dueTime);
            }
            return System.CreateTimer(callback, state, dueTime, period);
        }
    }
}

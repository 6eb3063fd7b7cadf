using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Parley.Testing;
using Xunit.Abstractions;

namespace Parley.Resp.Tests;

public class RespConnectionTests(RedisServer redis, ITestOutputHelper output) : IClassFixture<RedisServer>
{
    private async Task<RespConnection> ConnectAsync(Action<RespConnectionOptions>? configure = null)
    {
        var options = RespConnectionOptions.Parse(redis.Url);
        configure?.Invoke(options);
        var connection = new RespConnection(options);
        await connection.ConnectAsync().WithTimeout();
        return connection;
    }

    [Fact]
    public async Task Typed_commands_round_trip()
    {
        await using var c = await ConnectAsync();
        var key = "t:" + Guid.NewGuid();
        Assert.Null(await c.GetAsync(key).WithTimeout());
        Assert.True(await c.SetAsync(key, "{\"cookie\":{}}", TimeSpan.FromSeconds(3600)).WithTimeout());
        Assert.Equal("{\"cookie\":{}}", await c.GetStringAsync(key).WithTimeout());
        // Read back through redis-cli, which may take a second to start on a busy machine: ranges, not exact TTLs.
        static long Number(string reply) => long.Parse(reply.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(Number(await redis.CliAsync("TTL", key)), 3590, 3600);
        // A fraction of a second rounds up (EXPIRE takes whole seconds): the key expires at least 100 s from now.
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Assert.True(await c.ExpireAsync(key, TimeSpan.FromSeconds(99.2)).WithTimeout());
        Assert.True(Number(await redis.CliAsync("PEXPIRETIME", key)) >= before + 100_000, "99.2 s was not rounded up to 100 s");
        Assert.True(await c.SetAsync(key + "px", "v", TimeSpan.FromMilliseconds(15_000)).WithTimeout());
        Assert.InRange(Number(await redis.CliAsync("PTTL", key + "px")), 1, 15_000);
        Assert.Equal(2, await c.DelAsync(key, key + "px", key + "missing").WithTimeout());
        Assert.False(await c.ExpireAsync(key, TimeSpan.FromSeconds(1)).WithTimeout());
        Assert.Equal(1, await c.IncrAsync(key + "n").WithTimeout());
        Assert.Equal(2, await c.IncrAsync(key + "n").WithTimeout());
        for (var i = 0; i < 5; i++)
        {
            await c.LPushAsync(key + "l", "item" + i).WithTimeout();
        }
        await c.LTrimAsync(key + "l", 0, 2).WithTimeout();
        var items = await c.LRangeAsync(key + "l", 0, -1).WithTimeout();
        Assert.Equal(["item4", "item3", "item2"], items.Select(Encoding.UTF8.GetString));
        Assert.True(await c.PingAsync().WithTimeout() < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Scan_walks_all_matching_keys()
    {
        await using var c = await ConnectAsync();
        var prefix = "scan:" + Guid.NewGuid().ToString("N")[..8] + ":";
        for (var i = 0; i < 250; i++)
        {
            _ = c.SetAsync(prefix + i, "x");
        }
        await c.PingAsync().WithTimeout(); // FIFO: every SET before it has been answered
        var keys = new List<string>();
        await foreach (var key in c.ScanAllAsync(prefix + "*", 50))
        {
            keys.Add(key);
        }
        Assert.Equal(250, keys.Distinct().Count());
    }

    [Fact]
    public async Task Binary_and_large_values_are_exact()
    {
        await using var c = await ConnectAsync();
        var binary = Enumerable.Range(0, 256).Select(i => (byte)i).Concat("\r\n$-1\r\n*"u8.ToArray()).ToArray();
        await c.SetAsync("bin", binary).WithTimeout();
        Assert.Equal(binary, await c.GetAsync("bin").WithTimeout());

        var big = new byte[1024 * 1024];
        new Random(7).NextBytes(big);
        await c.SetAsync("big", big).WithTimeout();
        var back = await c.GetAsync("big").WithTimeout();
        Assert.Equal(big, back);
        Assert.Equal("1048576", await redis.CliAsync("STRLEN", "big"));
    }

    [Fact]
    public async Task Many_concurrent_callers_are_pipelined_and_matched_in_order()
    {
        await using var c = await ConnectAsync();
        const int N = 20_000;
        var key = "pipe:" + Guid.NewGuid();
        var stopwatch = Stopwatch.StartNew();
        var tasks = new Task<RespValue>[N];
        Parallel.For(0, N, i => tasks[i] = c.ExecuteAsync("ECHO", "v" + i));
        var results = await Task.WhenAll(tasks).WithTimeout();
        stopwatch.Stop();
        for (var i = 0; i < N; i++)
        {
            Assert.Equal("v" + i, results[i].AsString());
        }
        output.WriteLine($"{N} pipelined ECHO in {stopwatch.ElapsedMilliseconds} ms = {N / stopwatch.Elapsed.TotalSeconds:F0}/s");

        var incrs = Enumerable.Range(0, 1000).Select(_ => c.IncrAsync(key)).ToArray();
        var values = await Task.WhenAll(incrs).WithTimeout();
        Assert.Equal(Enumerable.Range(1, 1000).Select(i => (long)i), values); // issued in order, answered in order
    }

    [Fact]
    public async Task Error_replies_fail_only_their_command()
    {
        await using var c = await ConnectAsync();
        await c.LPushAsync("alist", "x").WithTimeout();
        var wrongType = Assert.ThrowsAsync<RespServerException>(() => c.GetAsync("alist"));
        var ok = c.ExecuteAsync("PING");
        var e = await wrongType.WithTimeout();
        Assert.StartsWith("WRONGTYPE", e.Message, StringComparison.Ordinal);
        Assert.Equal("WRONGTYPE", e.Prefix);
        Assert.Equal("PONG", (await ok.WithTimeout()).AsString());
        var unknown = await Assert.ThrowsAsync<RespServerException>(() => c.ExecuteAsync("NOSUCHCOMMAND")).WithTimeout();
        Assert.Contains("unknown command", unknown.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_slow_server_times_commands_out_and_the_connection_survives()
    {
        // A pause of two timeouts is slow, not hung (hung is three, or an unanswered keepalive PING, turned off here
        // so only the command under test waits).
        await using var c = await ConnectAsync(o =>
        {
            o.CommandTimeout = TimeSpan.FromSeconds(1);
            o.PingInterval = TimeSpan.Zero;
        });
        // CLIENT PAUSE from another client holds our command server-side (DEBUG is off by default in 7): longer than
        // the timeout even if starting redis-cli and sending GET take 1.4 s on a busy machine, shorter than three.
        Assert.Equal("OK", await redis.CliAsync("CLIENT", "PAUSE", "2500", "ALL"));
        var started = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<RespTimeoutException>(() => c.ExecuteAsync("GET", "paused")).WithTimeout();
        Assert.True(started.ElapsedMilliseconds >= 950, $"timed out after {started.ElapsedMilliseconds} ms"); // the exception type proves it did not wait for the reply
        Assert.Contains("GET", e.Message, StringComparison.Ordinal);
        // The late reply is matched to the timed-out command and dropped; later commands get their own replies.
        await Task.Delay(2500).WithTimeout();
        Assert.Equal("after", (await c.ExecuteAsync("ECHO", "after").WithTimeout()).AsString());
        Assert.True(c.IsConnected);
    }

    [Fact]
    public async Task A_command_unanswered_for_three_timeouts_drops_the_connection_even_without_ping()
    {
        await using var c = await ConnectAsync(o =>
        {
            o.CommandTimeout = TimeSpan.FromMilliseconds(200);
            o.PingInterval = TimeSpan.Zero;
        });
        var lost = new TaskCompletionSource<Exception>();
        c.Disconnected += e => lost.TrySetResult(e);
        // Paused well past three timeouts (600 ms), even if redis-cli takes a second to start.
        Assert.Equal("OK", await redis.CliAsync("CLIENT", "PAUSE", "4000", "ALL"));
        await Assert.ThrowsAsync<RespTimeoutException>(() => c.ExecuteAsync("GET", "paused")).WithTimeout();
        var reason = await lost.Task.WithTimeout();
        Assert.Contains("did not answer GET within 3 x", reason.Message, StringComparison.Ordinal);
        await c.WaitForConnectedAsync().WithTimeout();
        Assert.Equal("back", (await c.ExecuteAsync("ECHO", "back").WithTimeout()).AsString());
    }

    [Fact]
    public async Task Database_and_client_name_are_applied()
    {
        await using var c = await ConnectAsync(o =>
        {
            o.Database = 5;
            o.ClientName = "parley-test";
        });
        await c.SetAsync("in-db5", "yes").WithTimeout();
        Assert.Equal("yes", await redis.CliAsync("-n", "5", "GET", "in-db5"));
        Assert.Equal("", await redis.CliAsync("-n", "0", "GET", "in-db5"));
        Assert.Equal("parley-test", (await c.ExecuteAsync("CLIENT", "GETNAME").WithTimeout()).AsString());
        var parsed = RespConnectionOptions.Parse(redis.Url + "/5");
        await using var viaUrl = new RespConnection(parsed);
        await viaUrl.ConnectAsync().WithTimeout();
        Assert.Equal("yes", await viaUrl.GetStringAsync("in-db5").WithTimeout());
    }

    [Fact]
    public async Task Not_connected_fails_fast()
    {
        await using var never = new RespConnection(new RespConnectionOptions { Port = redis.Port });
        await Assert.ThrowsAsync<RespConnectionException>(() => never.ExecuteAsync("PING")).WithTimeout(TimeSpan.FromSeconds(1));
        var closedPort = new RespConnectionOptions { Port = 1, ConnectTimeout = TimeSpan.FromSeconds(2) };
        await using var refused = new RespConnection(closedPort);
        await Assert.ThrowsAsync<RespConnectionException>(() => refused.ConnectAsync()).WithTimeout();
    }

    [Fact]
    public async Task StartConnecting_after_ConnectAsync_has_nothing_to_do()
    {
        var log = new TestLog();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(log));
        await using var c = new RespConnection(RespConnectionOptions.Parse(redis.Url), loggers.CreateLogger<RespConnection>());
        await c.ConnectAsync().WithTimeout();
        await c.StartConnecting().WithTimeout();
        await c.EnsureConnectedAsync().AsTask().WithTimeout();
        Assert.Equal("PONG", (await c.ExecuteAsync("PING").WithTimeout()).AsString());
        Assert.DoesNotContain(log.Entries, e => e.EventId.Id == 3002);
    }

    [Fact]
    public async Task DisposeAsync_waits_for_the_first_connection_loop()
    {
        await using var c = new RespConnection(RespConnectionOptions.Parse(redis.Url));
        using var release = new ManualResetEventSlim();
        var entered = new TaskCompletionSource();
        // A Connected handler that blocks holds the loop inside its last attempt.
        c.Connected += () =>
        {
            entered.TrySetResult();
            release.Wait(TestTimeouts.Default);
        };
        var loop = c.StartConnecting();
        await entered.Task.WithTimeout();
        var disposing = c.DisposeAsync().AsTask();
        await Task.Delay(200).WithTimeout();
        Assert.False(disposing.IsCompleted, "DisposeAsync returned while the first-connection loop was still running");
        release.Set();
        await disposing.WithTimeout();
        Assert.True(loop.IsCompletedSuccessfully);
    }
}

using System.Diagnostics;
using Parley.Testing;

namespace Parley.Redis.Tests;

/// <summary>
/// The Redis Streams adapter when Redis goes away: it behaves as the pub/sub adapters do while Redis is down, and
/// its stream reader resumes from the last entry it read, so what was appended meanwhile still arrives.
/// </summary>
public sealed class StreamsFaultTests
{
    [Fact]
    public async Task A_reader_whose_connection_drops_resumes_from_its_last_entry_without_losing_any()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var a = await ParleyNode.StartAsync(redis.Url, sharded: false, streams: _ => { });
        await using var b = await ParleyNode.StartAsync(redis.Url, sharded: false, streams: _ => { });
        await using var clients = NodeDriver.Start();
        await Wait.ForServerCountAsync(() => a.Io.Sockets.Adapter.ServerCountAsync(), 2);
        var b1 = await clients.ConnectAsync(b.Url, ["t"]);
        await a.Io.To("t").EmitAsync("seq", -1).WithTimeout();
        Assert.Equal(-1, (await clients.ExpectNextAsync(b1.Handle, "seq"))[0]!.GetValue<int>());

        // Only the stream readers lose their connections (they retry after a second); publishing goes on meanwhile.
        var list = await redis.CliAsync("CLIENT", "LIST");
        var readers = list.Split('\n')
            .Where(line => line.Contains("-xread ", StringComparison.Ordinal) && line.Contains("cmd=xread", StringComparison.Ordinal))
            .Select(line => line.Split(' ').First(f => f.StartsWith("id=", StringComparison.Ordinal))[3..])
            .ToList();
        Assert.True(readers.Count == 2, list); // one per node, blocked in XREAD
        foreach (var id in readers)
        {
            await redis.CliAsync("CLIENT", "KILL", "ID", id);
        }
        for (var i = 0; i < 20; i++)
        {
            await a.Io.To("t").EmitAsync("seq", i).WithTimeout();
        }
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(i, (await clients.ExpectNextAsync(b1.Handle, "seq"))[0]!.GetValue<int>());
        }
    }

    [Fact]
    public async Task While_Redis_is_down_nodes_act_alone_and_cross_node_traffic_resumes_when_it_is_back()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var a = await ParleyNode.StartAsync(redis.Url, sharded: false, streams: _ => { });
        await using var b = await ParleyNode.StartAsync(redis.Url, sharded: false, streams: _ => { });
        await using var clients = NodeDriver.Start();
        await Wait.ForServerCountAsync(() => a.Io.Sockets.Adapter.ServerCountAsync(), 2);
        var a1 = await clients.ConnectAsync(a.Url, ["t"]);
        var b1 = await clients.ConnectAsync(b.Url, ["t"]);

        await redis.KillAsync();
        await TestTimeouts.Eventually(() => !a.Status.IsReady && !b.Status.IsReady, because: "the loss noticed");
        var started = Stopwatch.StartNew();
        await a.Io.To("t").EmitAsync("local", 1).WithTimeout();
        Assert.Equal([a1.Id], (await a.Io.FetchSocketsAsync().WithTimeout()).Select(s => s.Id));
        Assert.Empty(await a.Io.ServerSideEmitWithAckAsync("anyone", [], TimeSpan.FromSeconds(5)).WithTimeout());
        Assert.Equal(1, await a.Io.Sockets.Adapter.ServerCountAsync().WithTimeout());
        // Any of these would take RequestsTimeout (3 s) if it waited for the other node.
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(2.5), $"cluster calls took {started.Elapsed} while Redis was down");
        await clients.ExpectNextAsync(a1.Handle, "local");

        await redis.RestartAsync();
        await a.Status.WaitUntilReadyAsync().WithTimeout();
        await b.Status.WaitUntilReadyAsync().WithTimeout();
        // The readers retry every second: broadcast until B's client has one, then the stream order holds again.
        await TestTimeouts.Eventually(async () =>
        {
            await a.Io.To("t").EmitAsync("back").WithTimeout();
            return await clients.ReceivesNoneAsync(b1.Handle, "event", TimeSpan.FromMilliseconds(500)) == false;
        }, because: "cross-node broadcasts resume");
        await a.Io.To("t").EmitAsync("marker").WithTimeout();
        while ((await clients.NextAnyEventAsync(b1.Handle)).Name != "marker")
        {
        }
        Assert.Equal(2, await a.Io.Sockets.Adapter.ServerCountAsync().WithTimeout());
    }
}

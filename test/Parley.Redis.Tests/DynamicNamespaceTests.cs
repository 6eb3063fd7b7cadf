using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Parley.Testing;

namespace Parley.Redis.Tests;

/// <summary>Dynamic namespaces on the Redis adapter: children subscribe, the parent does not, a removed child lets go.</summary>
public sealed class DynamicNamespaceTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task Only_live_children_hold_Redis_subscriptions()
    {
        await using var host = await TestWebHost.StartAsync(
            b => b.Services.AddParley(o => o.CleanupEmptyChildNamespaces = true).AddRedis(redis.Url),
            app => app.MapParley("/socket.io", io => io.Of(new Regex(@"^/room-\d+$")).OnConnection(_ => { })));
        await using var driver = NodeDriver.Start();

        var h = await driver.CallForHandleAsync("sio.connect", new { url = host.Url + "/room-7", opts = new { transports = new[] { "websocket" } } });
        await driver.NextEventAsync(h, "connect");
        await TestTimeouts.Eventually(() => NumSub("socket.io-request#/room-7#") == 1, because: "the child subscribed its request channel");
        // The parent (named after its pattern) has no sockets and never subscribes anything.
        Assert.DoesNotContain("#/_", (await redis.CliAsync("PUBSUB", "CHANNELS", "*")).Replace("\n", " ", StringComparison.Ordinal), StringComparison.Ordinal);

        await driver.CallAsync("sio.disconnect", new { h });
        await TestTimeouts.Eventually(() => NumSub("socket.io-request#/room-7#") == 0, because: "the emptied child was removed and its adapter disposed");
    }

    private int NumSub(string channel)
    {
        var reply = redis.CliAsync("PUBSUB", "NUMSUB", channel).GetAwaiter().GetResult().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return int.Parse(reply[^1], System.Globalization.CultureInfo.InvariantCulture);
    }
}

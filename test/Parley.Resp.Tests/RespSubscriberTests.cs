using System.Collections.Concurrent;
using System.Text;
using Parley.Testing;

namespace Parley.Resp.Tests;

public class RespSubscriberTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task Channels_patterns_and_shard_channels_deliver_binary_payloads()
    {
        var received = new ConcurrentQueue<RespMessage>();
        var prefix = Guid.NewGuid().ToString("N")[..6];
        await using var sub = new RespSubscriber(RespConnectionOptions.Parse(redis.Url), (in RespMessage m) => received.Enqueue(m));
        await using var pub = new RespConnection(RespConnectionOptions.Parse(redis.Url));
        await sub.ConnectAsync().WithTimeout();
        await pub.ConnectAsync().WithTimeout();
        await sub.SubscribeAsync(prefix + "a", prefix + "b").WithTimeout();
        await sub.PSubscribeAsync(prefix + "p#*").WithTimeout();
        await sub.SSubscribeAsync(prefix + "s1", prefix + "s2").WithTimeout();
        await sub.PingAsync().WithTimeout();

        Assert.Equal(1, await pub.PubSubNumSubAsync(prefix + "a").WithTimeout());
        Assert.Equal(1, await pub.PubSubShardNumSubAsync(prefix + "s2").WithTimeout());
        var msgpack = new byte[] { 0x93, 0xa6, 0x00, 0xff, 0x0d, 0x0a, 0xc4 };
        Assert.Equal(1, await pub.PublishAsync(prefix + "a", msgpack).WithTimeout());
        Assert.Equal(1, await pub.PublishAsync(prefix + "p#room#", "pattern").WithTimeout());
        Assert.Equal(1, await pub.SPublishAsync(prefix + "s2", "shard").WithTimeout());
        await TestTimeouts.Eventually(() => received.Count == 3);
        var all = received.ToArray();
        Assert.Equal(new RespMessage(RespMessageKind.Message, prefix + "a", null, default).Channel, all[0].Channel);
        Assert.Equal(msgpack, all[0].Payload.ToArray());
        Assert.Equal((RespMessageKind.PatternMessage, prefix + "p#room#", prefix + "p#*", "pattern"),
            (all[1].Kind, all[1].Channel, all[1].Pattern, Encoding.UTF8.GetString(all[1].Payload.Span)));
        Assert.Equal((RespMessageKind.ShardMessage, prefix + "s2"), (all[2].Kind, all[2].Channel));

        await sub.UnsubscribeAsync(prefix + "a").WithTimeout();
        await sub.SUnsubscribeAsync(prefix + "s2").WithTimeout();
        Assert.Equal(0, await pub.PublishAsync(prefix + "a", "gone").WithTimeout());
        Assert.Equal(0, await pub.PubSubShardNumSubAsync(prefix + "s2").WithTimeout());
        Assert.Equal(1, await pub.PubSubNumSubAsync(prefix + "b").WithTimeout());
        var (channels, patterns, shards) = sub.Subscriptions;
        Assert.Equal([prefix + "b"], channels);
        Assert.Equal([prefix + "p#*"], patterns);
        Assert.Equal([prefix + "s1"], shards);
    }

    [Fact]
    public async Task A_throwing_handler_is_logged_and_delivery_goes_on()
    {
        var count = 0;
        var channel = "h" + Guid.NewGuid().ToString("N")[..6];
        await using var sub = new RespSubscriber(RespConnectionOptions.Parse(redis.Url), (in RespMessage m) =>
        {
            if (Interlocked.Increment(ref count) == 1)
            {
                throw new InvalidOperationException("handler bug");
            }
        });
        await using var pub = new RespConnection(RespConnectionOptions.Parse(redis.Url));
        await sub.ConnectAsync().WithTimeout();
        await pub.ConnectAsync().WithTimeout();
        await sub.SubscribeAsync(channel).WithTimeout();
        await pub.PublishAsync(channel, "1").WithTimeout();
        await pub.PublishAsync(channel, "2").WithTimeout();
        await TestTimeouts.Eventually(() => Volatile.Read(ref count) == 2);
        Assert.True(sub.IsConnected);
    }

    [Fact]
    public async Task Subscribing_while_disconnected_fails_fast_but_is_remembered()
    {
        await using var sub = new RespSubscriber(RespConnectionOptions.Parse(redis.Url), (in RespMessage _) => { });
        await Assert.ThrowsAsync<RespConnectionException>(() => sub.SubscribeAsync("later")).WithTimeout(TimeSpan.FromSeconds(1));
        await sub.ConnectAsync().WithTimeout();
        await using var pub = new RespConnection(RespConnectionOptions.Parse(redis.Url));
        await pub.ConnectAsync().WithTimeout();
        Assert.True(await pub.PubSubNumSubAsync("later").WithTimeout() >= 1);
    }

    [Fact]
    public async Task Concurrent_subscribes_and_unsubscribes_leave_the_server_as_the_client_remembers()
    {
        await using var sub = new RespSubscriber(RespConnectionOptions.Parse(redis.Url), (in RespMessage _) => { });
        await using var pub = new RespConnection(RespConnectionOptions.Parse(redis.Url));
        await sub.ConnectAsync().WithTimeout();
        await pub.ConnectAsync().WithTimeout();
        var mismatches = new List<string>();
        for (var round = 0; round < 100; round++)
        {
            var channel = "race" + round + Guid.NewGuid().ToString("N")[..6];
            // Threads flip the same channel and shard channel at the same moment; whatever the last change under the
            // lock was, Redis must agree with the remembered set.
            using var start = new Barrier(4);
            var flips = Enumerable.Range(0, 4).Select(t => Task.Factory.StartNew(() =>
            {
                start.SignalAndWait();
                var sent = new List<Task>();
                for (var i = 0; i < 25; i++)
                {
                    sent.Add((i + t) % 2 == 0
                        ? Task.WhenAll(sub.SubscribeAsync(channel), sub.SSubscribeAsync(channel))
                        : Task.WhenAll(sub.UnsubscribeAsync(channel), sub.SUnsubscribeAsync(channel)));
                }
                return Task.WhenAll(sent);
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap());
            await Task.WhenAll(flips).WithTimeout();
            await sub.PingAsync().WithTimeout(); // FIFO: every confirmation came before the PONG
            var (channels, _, shards) = sub.Subscriptions;
            if ((channels.Contains(channel) ? 1 : 0) != await pub.PubSubNumSubAsync(channel).WithTimeout() ||
                (shards.Contains(channel) ? 1 : 0) != await pub.PubSubShardNumSubAsync(channel).WithTimeout())
            {
                mismatches.Add(channel);
            }
        }
        Assert.Empty(mismatches);
    }
}

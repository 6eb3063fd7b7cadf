namespace Parley.Resp;

/// <summary>Typed helpers for the commands the Redis adapter and the session store send.</summary>
internal sealed partial class RespConnection
{
    /// <summary><c>GET key</c>: the value's bytes, or null when the key does not exist.</summary>
    public async Task<byte[]?> GetAsync(string key) => (await ExecuteAsync("GET", key).ConfigureAwait(false)).AsBytes();

    /// <summary><c>GET key</c> as UTF-8 text (connect-redis stores JSON), or null.</summary>
    public async Task<string?> GetStringAsync(string key) => (await ExecuteAsync("GET", key).ConfigureAwait(false)).AsString();

    /// <summary>
    /// <c>SET key value [EX s | PX ms]</c>: EX when the expiry is whole seconds (what connect-redis sends), PX
    /// otherwise. Returns true when Redis answered OK.
    /// </summary>
    public async Task<bool> SetAsync(string key, RespArg value, TimeSpan? expiry = null)
    {
        Task<RespValue> task;
        if (expiry is not { } ttl)
        {
            task = ExecuteAsync("SET", key, value);
        }
        else if (ttl.Ticks % TimeSpan.TicksPerSecond == 0)
        {
            task = ExecuteAsync("SET", key, value, "EX", (long)ttl.TotalSeconds);
        }
        else
        {
            task = ExecuteAsync("SET", key, value, "PX", (long)Math.Ceiling(ttl.TotalMilliseconds));
        }
        var reply = await task.ConfigureAwait(false);
        return reply.Type == RespType.SimpleString;
    }

    /// <summary><c>DEL key...</c>: how many keys were removed.</summary>
    public async Task<long> DelAsync(params string[] keys)
    {
        var args = new RespArg[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            args[i] = keys[i];
        }
        return (await ExecuteAsync("DEL", args.AsSpan()).ConfigureAwait(false)).Integer;
    }

    /// <summary><c>EXPIRE key seconds</c> (rounded up, as connect-redis' <c>Math.ceil</c>): true if the key exists.</summary>
    public async Task<bool> ExpireAsync(string key, TimeSpan ttl) =>
        (await ExecuteAsync("EXPIRE", key, (long)Math.Ceiling(ttl.TotalSeconds)).ConfigureAwait(false)).Integer == 1;

    /// <summary><c>PUBLISH channel message</c>: how many subscribers got it.</summary>
    public async Task<long> PublishAsync(string channel, RespArg message) =>
        (await ExecuteAsync("PUBLISH", channel, message).ConfigureAwait(false)).Integer;

    /// <summary><c>SPUBLISH shardchannel message</c> (Redis 7+): how many shard subscribers got it.</summary>
    public async Task<long> SPublishAsync(string channel, RespArg message) =>
        (await ExecuteAsync("SPUBLISH", channel, message).ConfigureAwait(false)).Integer;

    /// <summary><c>PUBSUB NUMSUB channel</c>: the classic adapter's server count (interop.md §5.1).</summary>
    public async Task<long> PubSubNumSubAsync(string channel) =>
        SecondInteger(await ExecuteAsync("PUBSUB", "NUMSUB", channel).ConfigureAwait(false));

    /// <summary><c>PUBSUB SHARDNUMSUB channel</c>: the sharded adapter's server count (interop.md §5.2).</summary>
    public async Task<long> PubSubShardNumSubAsync(string channel) =>
        SecondInteger(await ExecuteAsync("PUBSUB", "SHARDNUMSUB", channel).ConfigureAwait(false));

    public async Task<long> IncrAsync(string key) => (await ExecuteAsync("INCR", key).ConfigureAwait(false)).Integer;

    /// <summary><c>LPUSH key value</c>: the list's new length.</summary>
    public async Task<long> LPushAsync(string key, RespArg value) => (await ExecuteAsync("LPUSH", key, value).ConfigureAwait(false)).Integer;

    public async Task LTrimAsync(string key, long start, long stop) => await ExecuteAsync("LTRIM", key, start, stop).ConfigureAwait(false);

    /// <summary><c>LRANGE key start stop</c>: the items' bytes.</summary>
    public async Task<byte[][]> LRangeAsync(string key, long start, long stop)
    {
        var reply = await ExecuteAsync("LRANGE", key, start, stop).ConfigureAwait(false);
        var items = new byte[reply.Count][];
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = reply[i].AsBytes() ?? [];
        }
        return items;
    }

    /// <summary>One <c>SCAN cursor [MATCH pattern] [COUNT n]</c> step: the next cursor (0 when done) and the keys.</summary>
    public async Task<(long Cursor, string[] Keys)> ScanAsync(long cursor, string? match = null, int count = 100)
    {
        var reply = match is null
            ? await ExecuteAsync("SCAN", cursor, "COUNT", count).ConfigureAwait(false)
            : await ExecuteAsync("SCAN", cursor, "MATCH", match, "COUNT", count).ConfigureAwait(false);
        var keys = new string[reply[1].Count];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = reply[1][i].AsString() ?? "";
        }
        return (reply[0].AsInt64(), keys);
    }

    /// <summary>Every key matching <paramref name="match"/>, as connect-redis' <c>ids()</c>/<c>clear()</c> walk them.</summary>
    public async IAsyncEnumerable<string> ScanAllAsync(string? match = null, int count = 100)
    {
        long cursor = 0;
        do
        {
            var (next, keys) = await ScanAsync(cursor, match, count).ConfigureAwait(false);
            foreach (var key in keys)
            {
                yield return key;
            }
            cursor = next;
        }
        while (cursor != 0);
    }

    /// <summary><c>PING</c>: the round trip time.</summary>
    public async Task<TimeSpan> PingAsync()
    {
        var start = Time.GetTimestamp();
        await ExecuteAsync("PING").ConfigureAwait(false);
        return Time.GetElapsedTime(start);
    }

    /// <summary>NUMSUB-style replies are [channel, count, ...].</summary>
    private static long SecondInteger(RespValue reply) => reply.Count >= 2 ? reply[1].AsInt64() : 0;
}

using System.Text.Json;
using Npgsql;
using StackExchange.Redis;

namespace Parley.Chat;

/// <summary>
/// History in Redis, shared by every node and kept across restarts: a list per room, <c>LPUSH</c>, <c>LTRIM 0 49</c>
/// and <c>EXPIRE</c> in one MULTI (one key, so one slot on a Redis Cluster), read with <c>LRANGE</c> (newest first,
/// reversed for clients). The TTL, renewed by every message, lets an idle room's history expire, so the keys Redis
/// holds are bounded by the rooms in use, not by every room ever named.
/// </summary>
internal sealed class RedisChatHistory(IConnectionMultiplexer redis, TimeSpan idleRoomLife) : IChatHistory
{
    private const string Prefix = "parley:chat:history:";

    public async ValueTask AddAsync(ChatMessage message)
    {
        var key = (RedisKey)(Prefix + message.Room);
        var transaction = redis.GetDatabase().CreateTransaction();
        _ = transaction.ListLeftPushAsync(key, JsonSerializer.SerializeToUtf8Bytes(message, ChatJson.Default.ChatMessage));
        _ = transaction.ListTrimAsync(key, 0, MemoryChatHistory.Limit - 1);
        _ = transaction.KeyExpireAsync(key, idleRoomLife);
        await transaction.ExecuteAsync();
    }

    public async ValueTask<IReadOnlyList<ChatMessage>> GetAsync(string room)
    {
        var items = await redis.GetDatabase().ListRangeAsync(Prefix + room, 0, MemoryChatHistory.Limit - 1);
        var messages = new List<ChatMessage>(items.Length);
        for (var i = items.Length - 1; i >= 0; i--)
        {
            if (JsonSerializer.Deserialize((byte[])items[i]!, ChatJson.Default.ChatMessage) is { } message)
            {
                messages.Add(message);
            }
        }
        return messages;
    }
}

/// <summary>
/// History in PostgreSQL: one row per message, the room's last 50 kept; at most once a minute, messages older
/// than <see cref="ChatLimits.HistoryRetention"/> and the oldest beyond <see cref="ChatLimits.MaxHistoryMessages"/>
/// are deleted (retention: rooms nobody writes in lose their history).
/// </summary>
internal sealed class PostgresChatHistory(NpgsqlDataSource dataSource, ChatLimits limits, TimeProvider time) : IChatHistory
{
    private const string Table = "parley_chat_message";
    private static readonly TimeSpan s_retentionInterval = TimeSpan.FromMinutes(1);
    private readonly SemaphoreSlim _created = new(1, 1);
    private bool _ready;
    private long _lastRetention = long.MinValue;

    private async ValueTask EnsureTableAsync()
    {
        if (_ready)
        {
            return;
        }
        await _created.WaitAsync();
        try
        {
            if (!_ready)
            {
                await using var command = dataSource.CreateCommand(
                    $"CREATE TABLE IF NOT EXISTS {Table} (id text PRIMARY KEY, room text NOT NULL, \"user\" text NOT NULL, text text NOT NULL, ts bigint NOT NULL);" +
                    $"CREATE INDEX IF NOT EXISTS {Table}_room_ts ON {Table} (room, ts);" +
                    $"CREATE INDEX IF NOT EXISTS {Table}_ts ON {Table} (ts);");
                await command.ExecuteNonQueryAsync();
                _ready = true;
            }
        }
        finally
        {
            _created.Release();
        }
    }

    public async ValueTask AddAsync(ChatMessage message)
    {
        await EnsureTableAsync();
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"INSERT INTO {Table} (id, room, \"user\", text, ts) VALUES ($1, $2, $3, $4, $5)")
        {
            Parameters = { new() { Value = message.Id }, new() { Value = message.Room }, new() { Value = message.User }, new() { Value = message.Text }, new() { Value = message.Ts } },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            $"DELETE FROM {Table} WHERE room = $1 AND id NOT IN (SELECT id FROM {Table} WHERE room = $1 ORDER BY ts DESC, id DESC LIMIT {MemoryChatHistory.Limit})")
        {
            Parameters = { new() { Value = message.Room } },
        });
        await batch.ExecuteNonQueryAsync();
        await ApplyRetentionAsync();
    }

    /// <summary>Deletes what the limits no longer allow; one node at a time is enough, and once a minute.</summary>
    private async ValueTask ApplyRetentionAsync()
    {
        var now = time.GetTimestamp();
        var last = Interlocked.Read(ref _lastRetention);
        if ((last != long.MinValue && time.GetElapsedTime(last, now) < s_retentionInterval)
            || Interlocked.CompareExchange(ref _lastRetention, now, last) != last)
        {
            return;
        }
        await ApplyRetentionNowAsync();
    }

    /// <summary>The retention pass itself (tests call it directly).</summary>
    public async ValueTask ApplyRetentionNowAsync()
    {
        await EnsureTableAsync();
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"DELETE FROM {Table} WHERE ts < $1")
        {
            Parameters = { new() { Value = (time.GetUtcNow() - limits.HistoryRetention).ToUnixTimeMilliseconds() } },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            $"DELETE FROM {Table} WHERE id IN (SELECT id FROM {Table} ORDER BY ts DESC, id DESC OFFSET $1)")
        {
            Parameters = { new() { Value = limits.MaxHistoryMessages } },
        });
        await batch.ExecuteNonQueryAsync();
    }

    public async ValueTask<IReadOnlyList<ChatMessage>> GetAsync(string room)
    {
        await EnsureTableAsync();
        await using var command = dataSource.CreateCommand(
            $"SELECT id, room, \"user\", text, ts FROM (SELECT * FROM {Table} WHERE room = $1 ORDER BY ts DESC, id DESC LIMIT {MemoryChatHistory.Limit}) recent ORDER BY ts, id");
        command.Parameters.Add(new() { Value = room });
        await using var reader = await command.ExecuteReaderAsync();
        var messages = new List<ChatMessage>();
        while (await reader.ReadAsync())
        {
            messages.Add(new ChatMessage(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4)));
        }
        return messages;
    }
}

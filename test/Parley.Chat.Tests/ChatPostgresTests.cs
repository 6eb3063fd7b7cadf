using System.Text.Json.Nodes;
using Parley.Testing;

namespace Parley.Chat.Tests;

/// <summary>The chat with sessions and history in a real PostgreSQL: both survive a restart of the node.</summary>
public sealed class ChatPostgresTests : IClassFixture<PostgresServer>
{
    private readonly PostgresServer _postgres;

    public ChatPostgresTests(PostgresServer postgres) => _postgres = postgres;

    [Fact]
    public async Task Sessions_and_history_survive_a_node_restart()
    {
        var database = await _postgres.CreateDatabaseAsync("chat");
        string[] args = ["--session-store", "postgres", "--postgres", _postgres.ConnectionStringFor(database)];
        await using var node = NodeDriver.Start();

        string cookie;
        await using (var first = await ChatHost.StartAsync(args))
        {
            cookie = await first.LoginAsync("Ann");
            var h = await node.CallForHandleAsync("sio.connect", new { url = first.Url, opts = new { transports = new[] { "websocket" }, extraHeaders = new { cookie } } });
            await node.NextEventAsync(h, "connect");
            var ack = await node.CallAsync("sio.emit", new { h, @event = "message", args = new object[] { new { text = "kept in postgres" } }, ack = true, timeout = 5000 });
            Assert.True(ack!["ok"]!.GetValue<bool>());
            await node.CallAsync("sio.disconnect", new { h });
        }

        await using var second = await ChatHost.StartAsync(args);
        var again = await node.CallForHandleAsync("sio.connect", new { url = second.Url, opts = new { transports = new[] { "websocket" }, extraHeaders = new { cookie } } });
        await node.NextEventAsync(again, "connect");
        var joined = await node.CallAsync("sio.emit", new { h = again, @event = "join", args = new object[] { "chat" }, ack = true, timeout = 5000 });
        var history = joined!["history"]!.AsArray();
        Assert.Contains(history, m => m!["text"]!.GetValue<string>() == "kept in postgres" && m["user"]!.GetValue<string>() == "Ann");
        var rows = await _postgres.PsqlAsync(database, "SELECT count(*) FROM session");
        Assert.Contains("1", rows);
    }
}

/// <summary>PostgreSQL history's bounds: retention of idle rooms and the total cap (docs/security.md "The chat's bounds").</summary>
public sealed class ChatPostgresHistoryBoundsTests : IClassFixture<PostgresServer>
{
    private readonly PostgresServer _postgres;

    public ChatPostgresHistoryBoundsTests(PostgresServer postgres) => _postgres = postgres;

    [Fact]
    public async Task Idle_rooms_lose_their_history_and_the_total_is_capped()
    {
        var database = await _postgres.CreateDatabaseAsync("chatbounds");
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(_postgres.ConnectionStringFor(database));
        var clock = new ManualClock();
        var limits = new ChatLimits { MaxHistoryMessages = 60, HistoryRetention = TimeSpan.FromDays(1) };
        var history = new PostgresChatHistory(dataSource, limits, clock);
        await history.AddAsync(new ChatMessage("old", "idle", "Ann", "from two days ago", clock.Now.AddDays(-2).ToUnixTimeMilliseconds()));
        for (var i = 0; i < 70; i++)
        {
            await history.AddAsync(new ChatMessage("m" + i, "room" + (i % 2), "Ann", "m" + i, clock.Now.ToUnixTimeMilliseconds() + i));
        }
        await history.ApplyRetentionNowAsync();

        Assert.Empty(await history.GetAsync("idle"));
        var total = (await history.GetAsync("room0")).Count + (await history.GetAsync("room1")).Count;
        Assert.Equal(60, total);
        Assert.Equal("m69", (await history.GetAsync("room1"))[^1].Text); // the newest are kept

        clock.Now = clock.Now.AddDays(2);
        await history.ApplyRetentionNowAsync();
        Assert.Empty(await history.GetAsync("room0"));
    }
}

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

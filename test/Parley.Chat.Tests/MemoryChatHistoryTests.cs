namespace Parley.Chat.Tests;

/// <summary>The in-memory history's bounds, on a clock the test moves.</summary>
public sealed class MemoryChatHistoryTests
{
    private static ChatMessage Message(string room, int i, TimeProvider clock) =>
        new("m" + i, room, "Ann", "m" + i, clock.GetUtcNow().ToUnixTimeMilliseconds());

    [Fact]
    public async Task Rooms_written_longest_ago_go_first_past_the_total_cap()
    {
        var clock = new ManualClock();
        var history = new MemoryChatHistory(new ChatLimits { MaxHistoryMessages = 100 }, clock);
        for (var i = 0; i < 60; i++)
        {
            await history.AddAsync(Message("a", i, clock));
            await history.AddAsync(Message("b", i, clock));
        }
        Assert.Equal(50, (await history.GetAsync("a")).Count);
        Assert.Equal(100, history.MessageCount);
        await history.AddAsync(Message("c", 0, clock)); // 101: room a, written longest ago, goes
        Assert.Empty(await history.GetAsync("a"));
        Assert.Equal(50, (await history.GetAsync("b")).Count);
        Assert.Equal("m0", (await history.GetAsync("c"))[0].Text);
        Assert.Equal(51, history.MessageCount);
    }

    [Fact]
    public async Task Idle_rooms_lose_their_history_after_the_retention()
    {
        var clock = new ManualClock();
        var history = new MemoryChatHistory(new ChatLimits { HistoryRetention = TimeSpan.FromHours(1) }, clock);
        await history.AddAsync(Message("idle", 0, clock));
        clock.Now += TimeSpan.FromMinutes(59);
        await history.AddAsync(Message("busy", 0, clock));
        Assert.Single(await history.GetAsync("idle"));
        clock.Now += TimeSpan.FromMinutes(2);
        Assert.Empty(await history.GetAsync("idle"));
        Assert.Single(await history.GetAsync("busy"));
        Assert.Equal(1, history.RoomCount);
    }
}

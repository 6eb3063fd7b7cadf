using Microsoft.Extensions.Configuration;

namespace Parley.Chat.Tests;

/// <summary>The chat's options: command line over configuration, <c>--redis</c> implying the Redis session store.</summary>
public sealed class ChatSettingsTests
{
    private static ChatSettings Parse(string[] args, Dictionary<string, string?>? config = null) =>
        ChatSettings.Parse(args, new ConfigurationBuilder().AddInMemoryCollection(config ?? []).Build(), out _);

    [Theory]
    [InlineData(new string[0], "memory")]
    [InlineData(new[] { "--redis", "redis://127.0.0.1:1" }, "redis")]
    [InlineData(new[] { "--redis=redis://127.0.0.1:1" }, "redis")]
    [InlineData(new[] { "--redis", "redis://127.0.0.1:1", "--session-store", "memory" }, "memory")]
    [InlineData(new[] { "--redis", "redis://127.0.0.1:1", "--session-store=memory" }, "memory")]
    [InlineData(new[] { "--session-store=memory", "--redis", "redis://127.0.0.1:1" }, "memory")]
    [InlineData(new[] { "--session-store", "postgres", "--postgres", "Host=127.0.0.1" }, "postgres")]
    public void The_session_store_follows_the_command_line(string[] args, string store) =>
        Assert.Equal(store, Parse(args).SessionStore);

    [Fact]
    public void Configuration_fills_what_the_command_line_leaves_out()
    {
        var config = new Dictionary<string, string?>
        {
            ["Parley:Secret"] = "new, old",
            ["Parley:Redis"] = "redis://127.0.0.1:2",
            ["Parley:SessionStore"] = "memory",
        };
        var fromConfig = Parse([], config);
        Assert.Equal(["new", "old"], fromConfig.Secrets);
        Assert.Equal("redis://127.0.0.1:2", fromConfig.Redis);
        Assert.Equal("memory", fromConfig.SessionStore);

        var overridden = Parse(["--secret", "cli", "--secret=cli2", "--session-store", "redis"], config);
        Assert.Equal(["cli", "cli2"], overridden.Secrets);
        Assert.Equal("redis", overridden.SessionStore);
    }

    [Theory]
    [InlineData(new[] { "--session-store", "mongo" }, "must be memory, redis or postgres")]
    [InlineData(new[] { "--session-store", "redis" }, "needs --redis")]
    [InlineData(new[] { "--session-store", "postgres" }, "needs --postgres")]
    [InlineData(new[] { "--secret" }, "--secret")]
    public void Bad_options_are_refused_with_a_message(string[] args, string message) =>
        Assert.Contains(message, Assert.Throws<ArgumentException>(() => Parse(args)).Message, StringComparison.Ordinal);
}

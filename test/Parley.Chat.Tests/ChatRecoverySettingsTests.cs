using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Parley.Chat.Tests;

/// <summary>The chat turns connection state recovery on unless told not to, with its middlewares run again.</summary>
public sealed class ChatRecoverySettingsTests
{
    private static ChatSettings Parse(string[] args, Dictionary<string, string?>? config = null) =>
        ChatSettings.Parse(args, new ConfigurationBuilder().AddInMemoryCollection(config ?? []).Build(), out _);

    [Fact]
    public void Recovery_is_on_unless_the_command_line_or_configuration_turns_it_off()
    {
        Assert.True(Parse([]).Recovery);
        Assert.False(Parse(["--no-recovery"]).Recovery);
        Assert.False(Parse([], new() { ["Parley:Recovery"] = "false" }).Recovery);
        Assert.True(Parse([], new() { ["Parley:Recovery"] = "true" }).Recovery);
    }

    [Fact]
    public async Task The_server_gets_recovery_with_its_middlewares_run_again_or_none()
    {
        await using (var on = await ChatHost.StartAsync())
        {
            var recovery = on.App.Services.GetRequiredService<ParleyServer>().Options.ConnectionStateRecovery;
            Assert.NotNull(recovery);
            Assert.False(recovery.SkipMiddlewares); // the session middleware must see a recovered socket
            Assert.Equal(TimeSpan.FromMinutes(2), recovery.MaxDisconnectionDuration);
        }
        await using var off = await ChatHost.StartAsync("--no-recovery");
        Assert.Null(off.App.Services.GetRequiredService<ParleyServer>().Options.ConnectionStateRecovery);
    }
}

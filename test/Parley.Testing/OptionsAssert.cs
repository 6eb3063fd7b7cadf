using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Xunit;

namespace Parley.Testing;

/// <summary>Checks of the options validators: a bad value stops the host at start, with the option's name.</summary>
public static class OptionsAssert
{
    /// <summary>
    /// Starts a host with <paramref name="configure"/>'s services and asserts the start fails with an
    /// <see cref="OptionsValidationException"/> whose message contains <paramref name="expected"/> (the option's name).
    /// </summary>
    public static async Task FailsAtStartAsync(Action<IServiceCollection> configure, string expected)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        configure(builder.Services);
        using var host = builder.Build();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WithTimeout());
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Parley.Adapters;
using Parley.EngineIO;
using Parley.Testing;

namespace Parley.Tests.SocketIO;

/// <summary>
/// <see cref="ParleyOptions"/> and <see cref="ClusterAdapterOptions"/> are validated by their
/// <c>IValidateOptions</c>: a bad value fails at start, and the message names the option.
/// </summary>
public sealed class OptionsValidationTests
{
    public static TheoryData<string, string> BadParleyOptions => new()
    {
        { "ConnectTimeout", "ParleyOptions.ConnectTimeout" },
        { "MaxClientFaults", "ParleyOptions.MaxClientFaults" },
        { "Parsers", "ParleyOptions.Parsers" },
        { "MaxAttachments", "ParleyOptions.MaxAttachments" },
        { "MaxJsonDepth", "ParleyOptions.MaxJsonDepth" },
        { "Engine.PingTimeout", "ParleyOptions.Engine.PingTimeout" },
        { "Engine.PerMessageDeflateWindowBits", "ParleyOptions.Engine.PerMessageDeflateWindowBits" },
        { "Engine.Transports", "ParleyOptions.Engine.Transports" },
        { "ConnectionStateRecovery.MaxDisconnectionDuration", "ParleyOptions.ConnectionStateRecovery.MaxDisconnectionDuration" },
        { "ConnectionStateRecovery.MaxPackets", "ParleyOptions.ConnectionStateRecovery.MaxPackets" },
        { "ConnectionStateRecovery.MaxBytes", "ParleyOptions.ConnectionStateRecovery.MaxBytes" },
        { "ConnectionStateRecovery.MaxSessions", "ParleyOptions.ConnectionStateRecovery.MaxSessions" },
    };

    [Theory]
    [MemberData(nameof(BadParleyOptions))]
    public Task A_bad_parley_option_fails_at_start_with_its_name(string option, string expected) =>
        OptionsAssert.FailsAtStartAsync(services => services.AddLogging().AddParley(o =>
        {
            switch (option)
            {
                case "ConnectTimeout": o.ConnectTimeout = TimeSpan.Zero; break;
                case "MaxClientFaults": o.MaxClientFaults = 0; break;
                case "Parsers": o.Parsers.Clear(); break;
                case "MaxAttachments": o.MaxAttachments = -1; break;
                case "MaxJsonDepth": o.MaxJsonDepth = 0; break;
                case "Engine.PingTimeout": o.Engine.PingTimeout = TimeSpan.Zero; break;
                case "Engine.PerMessageDeflateWindowBits": o.Engine.PerMessageDeflateWindowBits = 8; break;
                case "Engine.Transports": o.Engine.Transports.Clear(); break;
                default:
                    var recovery = new ConnectionStateRecoveryOptions();
                    switch (option)
                    {
                        case "ConnectionStateRecovery.MaxDisconnectionDuration": recovery.MaxDisconnectionDuration = TimeSpan.Zero; break;
                        case "ConnectionStateRecovery.MaxPackets": recovery.MaxPackets = 0; break;
                        case "ConnectionStateRecovery.MaxBytes": recovery.MaxBytes = 0; break;
                        case "ConnectionStateRecovery.MaxSessions": recovery.MaxSessions = 0; break;
                        default: throw new ArgumentOutOfRangeException(nameof(option), option, null);
                    }
                    o.ConnectionStateRecovery = recovery;
                    break;
            }
        }), expected);

    [Fact]
    public async Task Good_parley_options_start()
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new Microsoft.Extensions.Hosting.HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddLogging().AddParley(o => o.ConnectionStateRecovery = new ConnectionStateRecoveryOptions());
        using var host = builder.Build();
        await host.StartAsync().WithTimeout();
        await host.StopAsync().WithTimeout();
    }

    [Theory]
    [InlineData("PingInterval", "EngineOptions.PingInterval must be positive.")]
    [InlineData("MaxHttpBufferSize", "EngineOptions.MaxHttpBufferSize must be positive.")]
    [InlineData("HttpCompressionThreshold", "EngineOptions.HttpCompressionThreshold must not be negative.")]
    public void A_bad_engine_option_fails_with_its_name(string option, string expected)
    {
        var options = option switch
        {
            "PingInterval" => new EngineOptions { PingInterval = TimeSpan.FromSeconds(-1) },
            "MaxHttpBufferSize" => new EngineOptions { MaxHttpBufferSize = 0 },
            _ => new EngineOptions { HttpCompressionThreshold = -1 },
        };
        var result = new EngineOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Equal([expected], result.Failures);
        // The engine server alone (MapEngineIO) runs it too.
        var error = Assert.Throws<OptionsValidationException>(() => new EngineServer(options, NullLogger.Instance, _ => { }));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.False(new EngineOptionsValidator().Validate(null, new EngineOptions()).Failed);
    }

    [Theory]
    [InlineData("RequestsTimeout", "ClusterAdapterOptions.RequestsTimeout")]
    [InlineData("HeartbeatInterval", "ClusterAdapterOptions.HeartbeatInterval")]
    [InlineData("HeartbeatTimeout", "ClusterAdapterOptions.HeartbeatTimeout")]
    public async Task A_bad_cluster_adapter_option_fails_with_its_name(string option, string expected)
    {
        var options = option switch
        {
            "RequestsTimeout" => new ClusterAdapterOptions { RequestsTimeout = TimeSpan.Zero },
            "HeartbeatInterval" => new ClusterAdapterOptions { HeartbeatInterval = TimeSpan.Zero },
            _ => new ClusterAdapterOptions { HeartbeatTimeout = TimeSpan.FromSeconds(5) },
        };
        Assert.Contains(expected, new ClusterAdapterOptionsValidator().Validate(null, options).FailureMessage, StringComparison.Ordinal);

        // The base constructor runs it, so a third-party adapter cannot start with it either; and a host that
        // registers it with ValidateOnStart fails at start.
        await using var server = new ParleyServer(new ParleyOptions(), NullLoggerFactory.Instance);
        var bus = new InProcessBus();
        var error = Assert.Throws<OptionsValidationException>(() => bus.CreateAdapter(options)(server.Of("/")));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        await OptionsAssert.FailsAtStartAsync(services =>
        {
            services.AddOptions<ClusterAdapterOptions>().Configure(o =>
            {
                o.RequestsTimeout = options.RequestsTimeout;
                o.HeartbeatInterval = options.HeartbeatInterval;
                o.HeartbeatTimeout = options.HeartbeatTimeout;
            }).ValidateOnStart();
            services.AddSingleton<IValidateOptions<ClusterAdapterOptions>, ClusterAdapterOptionsValidator>();
        }, expected);
    }
}

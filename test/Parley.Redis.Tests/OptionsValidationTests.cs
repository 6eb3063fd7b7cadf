using Microsoft.Extensions.DependencyInjection;
using Parley.Testing;

namespace Parley.Redis.Tests;

/// <summary>
/// <see cref="RedisAdapterOptions"/> is validated by its <c>IValidateOptions</c> at start (<c>ValidateOnStart</c>),
/// not inside the DI factory: a bad value stops the host, and the message names the option.
/// </summary>
public sealed class OptionsValidationTests
{
    [Theory]
    [InlineData("Key", "RedisAdapterOptions.Key")]
    [InlineData("ChannelPrefix", "RedisAdapterOptions.ChannelPrefix")]
    [InlineData("RequestsTimeout", "RedisAdapterOptions.RequestsTimeout")]
    [InlineData("ServerCountCacheDuration", "RedisAdapterOptions.ServerCountCacheDuration")]
    [InlineData("MaxQueuedMessages", "RedisAdapterOptions.MaxQueuedMessages")]
    public Task A_bad_redis_adapter_option_fails_at_start_with_its_name(string option, string expected) =>
        // Nothing listens on port 1: validation stops the host before any connection.
        OptionsAssert.FailsAtStartAsync(services => services.AddLogging().AddParley().AddRedis("redis://127.0.0.1:1", o =>
        {
            switch (option)
            {
                case "Key": o.Key = ""; break;
                case "ChannelPrefix": o.ChannelPrefix = ""; break;
                case "RequestsTimeout": o.RequestsTimeout = TimeSpan.Zero; break;
                case "ServerCountCacheDuration": o.ServerCountCacheDuration = TimeSpan.FromSeconds(-1); break;
                default: o.MaxQueuedMessages = 0; break;
            }
        }), expected);
}

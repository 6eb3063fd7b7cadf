using Microsoft.Extensions.Options;

namespace Parley.Redis;

/// <summary>Checks <see cref="RedisAdapterOptions"/> at start-up (<c>ValidateOnStart</c>), naming the option at fault.</summary>
internal sealed class RedisAdapterOptionsValidator : IValidateOptions<RedisAdapterOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisAdapterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrEmpty(options.Key))
        {
            failures.Add("RedisAdapterOptions.Key must not be empty.");
        }
        if (string.IsNullOrEmpty(options.ChannelPrefix))
        {
            failures.Add("RedisAdapterOptions.ChannelPrefix must not be empty.");
        }
        if (options.RequestsTimeout <= TimeSpan.Zero)
        {
            failures.Add("RedisAdapterOptions.RequestsTimeout must be positive.");
        }
        if (options.ServerCountCacheDuration < TimeSpan.Zero)
        {
            failures.Add("RedisAdapterOptions.ServerCountCacheDuration must not be negative.");
        }
        if (options.MaxQueuedMessages <= 0)
        {
            failures.Add("RedisAdapterOptions.MaxQueuedMessages must be positive.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

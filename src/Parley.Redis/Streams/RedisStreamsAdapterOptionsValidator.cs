using Microsoft.Extensions.Options;

namespace Parley.Redis;

/// <summary>Checks <see cref="RedisStreamsAdapterOptions"/> at start-up (<c>ValidateOnStart</c>), naming the option at fault.</summary>
internal sealed class RedisStreamsAdapterOptionsValidator : IValidateOptions<RedisStreamsAdapterOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisStreamsAdapterOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrEmpty(options.StreamName))
        {
            failures.Add("RedisStreamsAdapterOptions.StreamName must not be empty");
        }
        if (string.IsNullOrEmpty(options.ChannelPrefix))
        {
            failures.Add("RedisStreamsAdapterOptions.ChannelPrefix must not be empty");
        }
        if (string.IsNullOrEmpty(options.SessionKeyPrefix))
        {
            failures.Add("RedisStreamsAdapterOptions.SessionKeyPrefix must not be empty");
        }
        if (options.MaxLength <= 0)
        {
            failures.Add("RedisStreamsAdapterOptions.MaxLength must be positive");
        }
        if (options.ReadCount <= 0)
        {
            failures.Add("RedisStreamsAdapterOptions.ReadCount must be positive");
        }
        if (options.BlockTime < TimeSpan.FromMilliseconds(1) || options.BlockTime > TimeSpan.FromMinutes(1))
        {
            failures.Add("RedisStreamsAdapterOptions.BlockTime must be between 1 ms and 1 min");
        }
        if (options.RequestsTimeout <= TimeSpan.Zero)
        {
            failures.Add("RedisStreamsAdapterOptions.RequestsTimeout must be positive");
        }
        if (options.MaxQueuedMessages <= 0)
        {
            failures.Add("RedisStreamsAdapterOptions.MaxQueuedMessages must be positive");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

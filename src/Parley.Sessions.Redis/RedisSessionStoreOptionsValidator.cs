using Microsoft.Extensions.Options;

namespace Parley.Sessions.Redis;

/// <summary>Validates <see cref="RedisSessionStoreOptions"/> at start-up (<c>ValidateOnStart</c>), naming the option.</summary>
internal sealed class RedisSessionStoreOptionsValidator : IValidateOptions<RedisSessionStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisSessionStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.Prefix is null)
        {
            failures.Add("RedisSessionStoreOptions.Prefix must not be null (connect-redis's default is \"sess:\").");
        }
        // SET … EX takes whole seconds, at least one.
        if (!options.DisableTtl && options.Ttl < TimeSpan.FromSeconds(1))
        {
            failures.Add("RedisSessionStoreOptions.Ttl must be at least 1 second, or DisableTtl set.");
        }
        if (options.Url is { Length: 0 })
        {
            failures.Add("RedisSessionStoreOptions.Url must not be empty; leave it null for the default.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

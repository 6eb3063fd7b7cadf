using Microsoft.Extensions.Options;

namespace Parley.Sessions;

/// <summary>Validates <see cref="MemorySessionStoreOptions"/> at start-up (<c>ValidateOnStart</c>), naming the option.</summary>
internal sealed class MemorySessionStoreOptionsValidator : IValidateOptions<MemorySessionStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, MemorySessionStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.MaxSessions < 1)
        {
            failures.Add("MemorySessionStoreOptions.MaxSessions must be at least 1.");
        }
        if (options.SweepInterval <= TimeSpan.Zero)
        {
            failures.Add("MemorySessionStoreOptions.SweepInterval must be positive.");
        }
        if (options.DefaultTtl <= TimeSpan.Zero)
        {
            failures.Add("MemorySessionStoreOptions.DefaultTtl must be positive.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

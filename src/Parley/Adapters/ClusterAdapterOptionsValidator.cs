using Microsoft.Extensions.Options;

namespace Parley.Adapters;

/// <summary>
/// Validates <see cref="ClusterAdapterOptions"/>, naming the option at fault. <see cref="ClusterAdapter"/>'s constructor
/// runs it; an adapter whose options come from DI registers it with <c>ValidateOnStart</c> to fail at start-up.
/// </summary>
public sealed class ClusterAdapterOptionsValidator : IValidateOptions<ClusterAdapterOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ClusterAdapterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.RequestsTimeout <= TimeSpan.Zero)
        {
            failures.Add("ClusterAdapterOptions.RequestsTimeout must be positive.");
        }
        if (options.HeartbeatInterval <= TimeSpan.Zero)
        {
            failures.Add("ClusterAdapterOptions.HeartbeatInterval must be positive.");
        }
        if (options.HeartbeatTimeout <= options.HeartbeatInterval)
        {
            failures.Add("ClusterAdapterOptions.HeartbeatTimeout must be longer than HeartbeatInterval.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

using Microsoft.Extensions.Options;

namespace Parley.EngineIO;

/// <summary>
/// Validates <see cref="EngineOptions"/>, naming the option at fault. <see cref="EngineServer"/>'s constructor runs
/// it; <c>AddParley</c> runs it at start-up for <c>ParleyOptions.Engine</c>, whose messages then name that path.
/// </summary>
public sealed class EngineOptionsValidator : IValidateOptions<EngineOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, EngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        AddFailures(options, nameof(EngineOptions), failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Adds one message per option at fault, each starting with <paramref name="prefix"/> (the options' path).</summary>
    internal static void AddFailures(EngineOptions options, string prefix, List<string> failures)
    {
        Positive(options.PingInterval, nameof(EngineOptions.PingInterval));
        Positive(options.PingTimeout, nameof(EngineOptions.PingTimeout));
        Positive(options.UpgradeTimeout, nameof(EngineOptions.UpgradeTimeout));
        Positive(options.MaxHttpBufferSize, nameof(EngineOptions.MaxHttpBufferSize));
        Positive(options.MaxOutgoingBufferSize, nameof(EngineOptions.MaxOutgoingBufferSize));
        Positive(options.MaxWebSocketFragments, nameof(EngineOptions.MaxWebSocketFragments));
        if (options.HttpCompressionThreshold < 0)
        {
            failures.Add($"{prefix}.HttpCompressionThreshold must not be negative.");
        }
        if (options.PerMessageDeflateWindowBits is < 9 or > 15)
        {
            failures.Add($"{prefix}.PerMessageDeflateWindowBits must be within 9–15.");
        }
        if (options.PerMessageDeflateThreshold < 0)
        {
            failures.Add($"{prefix}.PerMessageDeflateThreshold must not be negative.");
        }
        if (options.Transports is not { Count: > 0 })
        {
            failures.Add($"{prefix}.Transports must list at least one transport.");
        }

        void Positive<T>(T value, string option) where T : IComparable<T>
        {
            if (value.CompareTo(default!) <= 0)
            {
                failures.Add($"{prefix}.{option} must be positive.");
            }
        }
    }
}

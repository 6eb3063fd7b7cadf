using Microsoft.Extensions.Options;
using Parley.EngineIO;

namespace Parley.Hosting;

/// <summary>
/// Validates <see cref="ParleyOptions"/> (its <see cref="ParleyOptions.ConnectionStateRecovery"/> included) at
/// start-up (<c>AddParley</c> registers it with <c>ValidateOnStart</c>); each message names the option.
/// </summary>
internal sealed class ParleyOptionsValidator : IValidateOptions<ParleyOptions>
{
    public ValidateOptionsResult Validate(string? name, ParleyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.ConnectTimeout <= TimeSpan.Zero)
        {
            failures.Add("ParleyOptions.ConnectTimeout must be positive.");
        }
        if (options.MaxClientFaults < 1)
        {
            failures.Add("ParleyOptions.MaxClientFaults must be at least 1.");
        }
        if (options.Parsers.Count == 0)
        {
            failures.Add("ParleyOptions.Parsers must list at least one parser.");
        }
        if (options.MaxAttachments < 0)
        {
            failures.Add("ParleyOptions.MaxAttachments must not be negative.");
        }
        if (options.MaxJsonDepth < 1)
        {
            failures.Add("ParleyOptions.MaxJsonDepth must be at least 1.");
        }
        if (options.SerializerOptions is null)
        {
            failures.Add("ParleyOptions.SerializerOptions must not be null.");
        }
        if (options.Engine is null)
        {
            failures.Add("ParleyOptions.Engine must not be null.");
        }
        else
        {
            EngineOptionsValidator.AddFailures(options.Engine, "ParleyOptions.Engine", failures);
        }
        if (options.ConnectionStateRecovery is { } recovery)
        {
            if (recovery.MaxDisconnectionDuration <= TimeSpan.Zero)
            {
                failures.Add("ParleyOptions.ConnectionStateRecovery.MaxDisconnectionDuration must be positive.");
            }
            if (recovery.MaxPackets < 1)
            {
                failures.Add("ParleyOptions.ConnectionStateRecovery.MaxPackets must be at least 1.");
            }
            if (recovery.MaxBytes < 1)
            {
                failures.Add("ParleyOptions.ConnectionStateRecovery.MaxBytes must be at least 1.");
            }
            if (recovery.MaxSessions < 1)
            {
                failures.Add("ParleyOptions.ConnectionStateRecovery.MaxSessions must be at least 1.");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

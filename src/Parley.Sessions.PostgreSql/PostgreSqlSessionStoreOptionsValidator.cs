using Microsoft.Extensions.Options;

namespace Parley.Sessions.PostgreSql;

/// <summary>Validates <see cref="PostgreSqlSessionStoreOptions"/> at start-up (<c>ValidateOnStart</c>), naming the option.</summary>
internal sealed class PostgreSqlSessionStoreOptionsValidator : IValidateOptions<PostgreSqlSessionStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, PostgreSqlSessionStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.DataSource is null && string.IsNullOrEmpty(options.ConnectionString))
        {
            failures.Add("PostgreSqlSessionStoreOptions.ConnectionString or DataSource must be set.");
        }
        if (string.IsNullOrEmpty(options.TableName))
        {
            failures.Add("PostgreSqlSessionStoreOptions.TableName must not be empty.");
        }
        if (options.Ttl <= TimeSpan.Zero)
        {
            failures.Add("PostgreSqlSessionStoreOptions.Ttl must be positive.");
        }
        if (options.PruneSessionInterval is { } prune && prune <= TimeSpan.Zero)
        {
            failures.Add("PostgreSqlSessionStoreOptions.PruneSessionInterval must be positive, or null to turn pruning off.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

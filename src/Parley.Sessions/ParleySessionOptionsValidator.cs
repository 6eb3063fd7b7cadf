using Microsoft.Extensions.Options;

namespace Parley.Sessions;

/// <summary>Validates <see cref="ParleySessionOptions"/> at start-up.</summary>
internal sealed class ParleySessionOptionsValidator : IValidateOptions<ParleySessionOptions>
{
    public ValidateOptionsResult Validate(string? name, ParleySessionOptions options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.Secrets.Count; i++)
        {
            if (string.IsNullOrEmpty(options.Secrets[i]))
            {
                failures.Add($"ParleySessionOptions.Secrets[{i}] is empty; every secret must be a non-empty string.");
            }
        }
        if (string.IsNullOrEmpty(options.CookieName) || options.CookieName.Any(c => c <= ' ' || c >= 127 || "()<>@,;:\\\"/[]?={}".Contains(c, StringComparison.Ordinal)))
        {
            failures.Add("ParleySessionOptions.CookieName must be a non-empty cookie-name token (jshttp/cookie fieldContentRegExp).");
        }
        if (string.IsNullOrEmpty(options.Path) || options.Path[0] != '/')
        {
            failures.Add("ParleySessionOptions.Path must start with '/'.");
        }
        if (options.MaxAge is { } maxAge && maxAge < TimeSpan.Zero)
        {
            failures.Add("ParleySessionOptions.MaxAge must not be negative.");
        }
        if (options.Genid is null || options.JsonSerializerOptions is null)
        {
            failures.Add("ParleySessionOptions.Genid and JsonSerializerOptions must be set.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

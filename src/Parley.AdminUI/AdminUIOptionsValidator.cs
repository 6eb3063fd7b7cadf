using Microsoft.Extensions.Options;

namespace Parley.AdminUI;

/// <summary>Validates <see cref="AdminUIOptions"/>, naming the option at fault; <c>UseAdminUI</c> runs it.</summary>
internal sealed class AdminUIOptionsValidator : IValidateOptions<AdminUIOptions>
{
    public ValidateOptionsResult Validate(string? name, AdminUIOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrEmpty(options.NamespaceName) || options.NamespaceName[0] != '/')
        {
            failures.Add("AdminUIOptions.NamespaceName must start with '/'.");
        }
        if (options.StatsInterval <= TimeSpan.Zero)
        {
            failures.Add("AdminUIOptions.StatsInterval must be positive.");
        }
        if (options.MaxFailedSignIns < 1)
        {
            failures.Add("AdminUIOptions.MaxFailedSignIns must be at least 1.");
        }
        if (options.FailedSignInWindow <= TimeSpan.Zero)
        {
            failures.Add("AdminUIOptions.FailedSignInWindow must be positive.");
        }
        if (!options.AllowAnonymous)
        {
            if (string.IsNullOrEmpty(options.Username) || string.IsNullOrEmpty(options.PasswordHash))
            {
                failures.Add("The admin UI needs AdminUIOptions.Username and PasswordHash (a bcrypt hash), or AllowAnonymous = true.");
            }
            else if (!AdminUIPassword.IsBcryptHash(options.PasswordHash))
            {
                // lib/index.ts: "the `password` field must be a valid bcrypt hash".
                failures.Add("AdminUIOptions.PasswordHash must be a valid bcrypt hash ($2a$/$2b$/$2y$, cost 4-31).");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every option at fault.</summary>
    public static void ThrowIfInvalid(AdminUIOptions options)
    {
        if (new AdminUIOptionsValidator().Validate(null, options) is { Failed: true } result)
        {
            throw new OptionsValidationException(nameof(AdminUIOptions), typeof(AdminUIOptions), result.Failures);
        }
    }
}

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Chains a session store on <c>services.AddParleySessions(…)</c> (<c>.AddRedisStore(…)</c>,
/// <c>.AddPostgreSqlStore(…)</c>), as <see cref="IParleyBuilder"/> chains Parley's add-ons.
/// </summary>
public interface IParleySessionsBuilder
{
    /// <summary>The service collection.</summary>
    IServiceCollection Services { get; }
}

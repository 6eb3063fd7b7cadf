using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Parley.Sessions.PostgreSql;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Chains the PostgreSQL store on <c>services.AddParleySessions(…)</c>.</summary>
public static class PostgreSqlSessionsBuilderExtensions
{
    /// <summary>Keeps sessions in PostgreSQL, in connect-pg-simple's table and format.</summary>
    public static IParleySessionsBuilder AddPostgreSqlStore(this IParleySessionsBuilder builder, Action<PostgreSqlSessionStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<PostgreSqlSessionStoreOptions>().Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgreSqlSessionStoreOptions>, PostgreSqlSessionStoreOptionsValidator>());
        return builder.AddStore<PostgreSqlSessionStore>();
    }
}

using Microsoft.Extensions.DependencyInjection;

namespace Parley.Sessions.PostgreSql;

/// <summary>Chains the PostgreSQL store on <c>services.AddParleySessions(…)</c>.</summary>
public static class PostgreSqlSessionsBuilderExtensions
{
    /// <summary>Keeps sessions in PostgreSQL, in connect-pg-simple's table and format.</summary>
    public static ParleySessionsBuilder AddPostgreSqlStore(this ParleySessionsBuilder builder, Action<PostgreSqlSessionStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        return builder.AddStore<PostgreSqlSessionStore>();
    }
}

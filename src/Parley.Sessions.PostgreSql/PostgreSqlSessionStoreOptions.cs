using Npgsql;

namespace Parley.Sessions.PostgreSql;

/// <summary>
/// Options of <see cref="PostgreSqlSessionStore"/>, named after connect-pg-simple 10's (voxpelli/node-connect-pg-simple
/// <c>index.js</c> <c>PGStoreOptions</c>).
/// </summary>
public sealed class PostgreSqlSessionStoreOptions
{
    /// <summary>An Npgsql connection string (<c>conString</c>); used when <see cref="DataSource"/> is null.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>A data source to use (<c>pool</c>); it is not disposed by the store.</summary>
    public NpgsqlDataSource? DataSource { get; set; }

    /// <summary><c>tableName</c>; <c>session</c> by default.</summary>
    public string TableName { get; set; } = "session";

    /// <summary><c>schemaName</c>; null (the search path) by default.</summary>
    public string? SchemaName { get; set; }

    /// <summary>
    /// <c>createTableIfMissing</c>: create the table with connect-pg-simple's <c>table.sql</c> when it does not exist.
    /// True by default here (false in connect-pg-simple).
    /// </summary>
    public bool CreateTableIfMissing { get; set; } = true;

    /// <summary><c>ttl</c>: the life of a session whose cookie has no expiry; one day by default.</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromDays(1);

    /// <summary><c>pruneSessionInterval</c>: how often expired rows are deleted; 15 minutes by default, null disables pruning.</summary>
    public TimeSpan? PruneSessionInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary><c>pruneSessionRandomizedInterval</c>: each interval is drawn between 50% and 150% of it, so that nodes do not prune together. True by default.</summary>
    public bool PruneSessionRandomizedInterval { get; set; } = true;

    /// <summary><c>disableTouch</c>: never extend a session's expiry without saving it.</summary>
    public bool DisableTouch { get; set; }
}

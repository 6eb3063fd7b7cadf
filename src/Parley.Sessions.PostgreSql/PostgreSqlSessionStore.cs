using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Parley.Sessions.PostgreSql;

/// <summary>
/// Sessions in connect-pg-simple 10's table and with its queries (voxpelli/node-connect-pg-simple <c>index.js</c>,
/// <c>table.sql</c>; docs/wire-formats.md §3), so that an Express app with connect-pg-simple and Parley share sessions:
/// <code>
/// CREATE TABLE "session" ("sid" varchar NOT NULL COLLATE "default", "sess" json NOT NULL, "expire" timestamp(6) NOT NULL)
/// get:     SELECT sess FROM "session" WHERE sid = $1 AND expire >= to_timestamp($2)
/// set:     INSERT INTO "session" (sess, expire, sid) SELECT $1, to_timestamp($2), $3 ON CONFLICT (sid) DO UPDATE SET sess=$1, expire=to_timestamp($2) RETURNING sid
/// touch:   UPDATE "session" SET expire = to_timestamp($1) WHERE sid = $2 RETURNING sid
/// destroy: DELETE FROM "session" WHERE sid = $1
/// prune:   DELETE FROM "session" WHERE expire &lt; to_timestamp($1)
/// </code>
/// Times are epoch seconds rounded up (<c>Math.ceil(ms / 1000)</c>) passed to <c>to_timestamp</c>, never .NET dates,
/// so that both apps convert through the same connection time zone into the zone-less <c>expire</c> column.
/// </summary>
public sealed partial class PostgreSqlSessionStore : SessionStore, IAsyncDisposable
{
    // connect-pg-simple table.sql, with "session" replaced by the quoted table name as its index.js does.
    private const string TableSql =
        """
        CREATE TABLE "session" ("sid" varchar NOT NULL COLLATE "default", "sess" json NOT NULL, "expire" timestamp(6) NOT NULL) WITH (OIDS=FALSE);
        ALTER TABLE "session" ADD CONSTRAINT "session_pkey" PRIMARY KEY ("sid") NOT DEFERRABLE INITIALLY IMMEDIATE;
        CREATE INDEX "IDX_session_expire" ON "session" ("expire");
        """;

    private readonly PostgreSqlSessionStoreOptions _options;
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _quotedTable;
    private readonly string _getSql;
    private readonly string _setSql;
    private readonly string _touchSql;
    private readonly string _destroySql;
    private readonly string _pruneSql;
    private readonly SemaphoreSlim _tableLock = new(1, 1);
    private volatile bool _tableReady;
    private int _pruneStarted;
    private ITimer? _pruneTimer;
    private volatile bool _disposed;

    /// <summary>Creates the store; the table is checked and pruning starts on first use.</summary>
    public PostgreSqlSessionStore(IOptions<PostgreSqlSessionStoreOptions> options, TimeProvider? timeProvider = null, ILogger<PostgreSqlSessionStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        // PostgreSqlSessionStoreOptionsValidator (ValidateOnStart) has checked there is one or the other.
        if (_options.DataSource is { } ds)
        {
            _dataSource = ds;
        }
        else
        {
            _dataSource = NpgsqlDataSource.Create(_options.ConnectionString!);
            _ownsDataSource = true;
        }
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _quotedTable = QuoteTable(_options.SchemaName, _options.TableName);
        _getSql = "SELECT sess FROM " + _quotedTable + " WHERE sid = $1 AND expire >= to_timestamp($2)";
        _setSql = "INSERT INTO " + _quotedTable + " (sess, expire, sid) SELECT $1, to_timestamp($2), $3 ON CONFLICT (sid) DO UPDATE SET sess=$1, expire=to_timestamp($2) RETURNING sid";
        _touchSql = "UPDATE " + _quotedTable + " SET expire = to_timestamp($1) WHERE sid = $2 RETURNING sid";
        _destroySql = "DELETE FROM " + _quotedTable + " WHERE sid = $1";
        _pruneSql = "DELETE FROM " + _quotedTable + " WHERE expire < to_timestamp($1)";
    }

    /// <summary>The table as it appears in the queries, e.g. <c>"public"."session"</c>.</summary>
    public string QuotedTable => _quotedTable;

    /// <inheritdoc />
    public override bool CanEnumerate => true;

    /// <summary>connect-pg-simple <c>quotedTable()</c>: each identifier in double quotes, inner quotes doubled.</summary>
    public static string QuoteTable(string? schemaName, string tableName)
    {
        ArgumentNullException.ThrowIfNull(tableName);
        var table = "\"" + tableName.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        return schemaName is null ? table : "\"" + schemaName.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"." + table;
    }

    /// <inheritdoc />
    public override async ValueTask<string?> GetAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        await BeforeQueryAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = _dataSource.CreateCommand(_getSql);
        cmd.Parameters.Add(new NpgsqlParameter { Value = sessionId, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = CurrentTimestamp(), NpgsqlDbType = NpgsqlDbType.Double });
        var result = await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return result as string;
    }

    /// <inheritdoc />
    public override async ValueTask SetAsync(string sessionId, SessionRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        ArgumentNullException.ThrowIfNull(record.Json);
        await BeforeQueryAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = _dataSource.CreateCommand(_setSql);
        // The JSON text goes as a json parameter, so the column keeps it byte for byte (json, not jsonb).
        cmd.Parameters.Add(new NpgsqlParameter { Value = record.Json, NpgsqlDbType = NpgsqlDbType.Json });
        cmd.Parameters.Add(new NpgsqlParameter { Value = ExpireTime(record), NpgsqlDbType = NpgsqlDbType.Double });
        cmd.Parameters.Add(new NpgsqlParameter { Value = sessionId, NpgsqlDbType = NpgsqlDbType.Text });
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask TouchAsync(string sessionId, SessionRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        if (_options.DisableTouch)
        {
            return;
        }
        await BeforeQueryAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = _dataSource.CreateCommand(_touchSql);
        cmd.Parameters.Add(new NpgsqlParameter { Value = ExpireTime(record), NpgsqlDbType = NpgsqlDbType.Double });
        cmd.Parameters.Add(new NpgsqlParameter { Value = sessionId, NpgsqlDbType = NpgsqlDbType.Text });
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask DestroyAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        await BeforeQueryAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = _dataSource.CreateCommand(_destroySql);
        cmd.Parameters.Add(new NpgsqlParameter { Value = sessionId, NpgsqlDbType = NpgsqlDbType.Text });
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async ValueTask<long> CountAsync(CancellationToken cancellationToken = default)
    {
        await BeforeQueryAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = _dataSource.CreateCommand("SELECT count(*) FROM " + _quotedTable + " WHERE expire >= to_timestamp($1)");
        cmd.Parameters.Add(new NpgsqlParameter { Value = CurrentTimestamp(), NpgsqlDbType = NpgsqlDbType.Double });
        return (long)(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <inheritdoc />
    public override async ValueTask ClearAsync(CancellationToken cancellationToken = default)
    {
        await BeforeQueryAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = _dataSource.CreateCommand("DELETE FROM " + _quotedTable);
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes expired rows now (connect-pg-simple <c>pruneSessions</c>); returns how many.</summary>
    public async Task<int> PruneSessionsAsync(CancellationToken cancellationToken = default)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = _dataSource.CreateCommand(_pruneSql);
        cmd.Parameters.Add(new NpgsqlParameter { Value = CurrentTimestamp(), NpgsqlDbType = NpgsqlDbType.Double });
        var n = await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        Log.Pruned(_logger, n);
        return n;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        if (_pruneTimer is { } timer)
        {
            await timer.DisposeAsync().ConfigureAwait(false);
        }
        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
        _tableLock.Dispose();
    }

    // connect-pg-simple currentTimestamp(): Math.ceil(Date.now() / 1000).
    private double CurrentTimestamp() => Math.Ceiling(_time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0);

    // connect-pg-simple #getExpireTime(): ceil(expires / 1000), or ceil(now / 1000 + ttl).
    private double ExpireTime(SessionRecord record) => record.Expires is { } expires
        ? Math.Ceiling(expires.ToUnixTimeMilliseconds() / 1000.0)
        : Math.Ceiling(_time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0 + _options.Ttl.TotalSeconds);

    private async ValueTask BeforeQueryAsync(CancellationToken cancellationToken)
    {
        // connect-pg-simple starts its prune timer lazily, on the first query.
        if (_options.PruneSessionInterval is not null && Interlocked.Exchange(ref _pruneStarted, 1) == 0)
        {
            ArmPruneTimer();
        }
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (_tableReady || !_options.CreateTableIfMissing)
        {
            return;
        }
        await _tableLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_tableReady)
            {
                return;
            }
            await using (var check = _dataSource.CreateCommand("SELECT to_regclass($1::text)"))
            {
                check.Parameters.Add(new NpgsqlParameter { Value = _quotedTable, NpgsqlDbType = NpgsqlDbType.Text });
                bool missing;
                // regclass has no .NET mapping: only its nullness matters.
                await using (var reader = await check.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                {
                    missing = !await reader.ReadAsync(cancellationToken).ConfigureAwait(false) || await reader.IsDBNullAsync(0, cancellationToken).ConfigureAwait(false);
                }
                if (missing)
                {
                    try
                    {
                        await using var create = _dataSource.CreateCommand(TableSql.Replace("\"session\"", _quotedTable, StringComparison.Ordinal));
                        await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                        Log.TableCreated(_logger, _quotedTable);
                    }
                    catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.DuplicateTable or PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateObject)
                    {
                        // Another node (or the Express app) created it at the same moment.
                    }
                }
            }
            _tableReady = true;
        }
        finally
        {
            _tableLock.Release();
        }
    }

    private void ArmPruneTimer()
    {
        if (_disposed || _options.PruneSessionInterval is not { } interval)
        {
            return;
        }
        var delay = _options.PruneSessionRandomizedInterval
            ? interval * (0.5 + Random.Shared.NextDouble())
            : interval;
        var old = _pruneTimer;
        _pruneTimer = _time.CreateTimer(static s => _ = ((PostgreSqlSessionStore)s!).PruneAndRearmAsync(), this, delay, Timeout.InfiniteTimeSpan);
        old?.Dispose();
    }

    private async Task PruneAndRearmAsync()
    {
        try
        {
            await PruneSessionsAsync(CancellationToken.None).ConfigureAwait(false);
        }
        // A failed prune is retried at the next interval; it must not take the process down.
        catch (Exception ex)
        {
            Log.PruneFailed(_logger, ex);
        }
        finally
        {
            ArmPruneTimer();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4080, LogLevel.Information, "Created the session table {Table}.")]
        public static partial void TableCreated(ILogger logger, string table);

        [LoggerMessage(4081, LogLevel.Debug, "Pruned {Count} expired sessions.")]
        public static partial void Pruned(ILogger logger, int count);

        [LoggerMessage(4082, LogLevel.Warning, "Pruning expired sessions failed; retrying at the next interval.")]
        public static partial void PruneFailed(ILogger logger, Exception exception);
    }
}

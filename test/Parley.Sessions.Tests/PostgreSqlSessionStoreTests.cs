using Microsoft.Extensions.Options;
using Npgsql;
using Parley.Sessions.PostgreSql;
using Parley.Testing;

namespace Parley.Sessions.Tests;

[Collection(PostgresCollection.Name)]
public class PostgreSqlSessionStoreTests(PostgresServer server) : SessionStoreContractTests<PostgreSqlSessionStore>
{
    private string _database = "";

    protected override async Task<PostgreSqlSessionStore> CreateStoreAsync(TimeProvider time)
    {
        _database = await server.CreateDatabaseAsync("contract");
        return NewStore(time, _ => { });
    }

    private PostgreSqlSessionStore NewStore(TimeProvider time, Action<PostgreSqlSessionStoreOptions> configure)
    {
        var options = new PostgreSqlSessionStoreOptions { ConnectionString = server.ConnectionStringFor(_database) };
        configure(options);
        return new PostgreSqlSessionStore(Options.Create(options), time, TestManagers.Logger<PostgreSqlSessionStore>());
    }

    private Task<string> Sql(string sql) => server.PsqlAsync(_database, sql);

    [Fact]
    public async Task Creates_connect_pg_simple_table_when_missing()
    {
        await Store.GetAsync("x").AsTask().WithTimeout();
        var columns = await Sql("SELECT column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(datetime_precision::text, '-') FROM information_schema.columns WHERE table_name = 'session' ORDER BY ordinal_position").WithTimeout();
        Assert.Equal("sid character varying NO -\nsess json NO -\nexpire timestamp without time zone NO 6", columns);
        var indexes = await Sql("SELECT indexname || ': ' || indexdef FROM pg_indexes WHERE tablename = 'session' ORDER BY indexname").WithTimeout();
        Assert.Equal(
            "IDX_session_expire: CREATE INDEX \"IDX_session_expire\" ON public.session USING btree (expire)\n" +
            "session_pkey: CREATE UNIQUE INDEX session_pkey ON public.session USING btree (sid)",
            indexes);
    }

    [Fact]
    public async Task Expire_is_the_cookie_expiry_rounded_up_to_whole_seconds()
    {
        var expires = DateTimeOffset.Parse("2026-11-22T03:09:17.776Z", System.Globalization.CultureInfo.InvariantCulture);
        await Store.SetAsync("s1", new SessionRecord(Json("a", expires), expires)).AsTask().WithTimeout();
        // docs/wire-formats.md §3 VERIFIED: expires 03:09:17.776 → expire 03:09:18 (the connection's time zone is UTC here).
        Assert.Equal("2026-11-22 03:09:18|" + Json("a", expires), await Sql("SET TimeZone='UTC'; SELECT expire::text || '|' || sess::text FROM session WHERE sid = 's1'").WithTimeout());
        Assert.Equal("1795316958", await Sql("SELECT extract(epoch FROM expire)::bigint FROM session WHERE sid = 's1'").WithTimeout());
    }

    [Fact]
    public async Task Expire_without_cookie_expiry_is_now_plus_ttl()
    {
        var now = Now;
        await Store.SetAsync("s2", new SessionRecord(Json("a"), null)).AsTask().WithTimeout();
        var expected = (long)Math.Ceiling(now.ToUnixTimeMilliseconds() / 1000.0 + 86400);
        Assert.Equal(expected.ToString(System.Globalization.CultureInfo.InvariantCulture), await Sql("SELECT extract(epoch FROM expire)::bigint FROM session WHERE sid = 's2'").WithTimeout());
    }

    [Fact]
    public async Task Schema_and_table_names_are_quoted()
    {
        await Sql("CREATE SCHEMA \"we\"\"ird\"").WithTimeout();
        await using var store = NewStore(Time, o => { o.SchemaName = "we\"ird"; o.TableName = "my \"sessions\""; });
        Assert.Equal("\"we\"\"ird\".\"my \"\"sessions\"\"\"", store.QuotedTable);
        await store.SetAsync("q1", new SessionRecord(Json("q"), null)).AsTask().WithTimeout();
        Assert.Equal(Json("q"), await store.GetAsync("q1").WithTimeout());
        Assert.Equal("1", await Sql("SELECT count(*) FROM \"we\"\"ird\".\"my \"\"sessions\"\"\"").WithTimeout());
    }

    [Fact]
    public async Task Prune_deletes_expired_rows()
    {
        var soon = Now.AddSeconds(2);
        await Store.SetAsync("old", new SessionRecord(Json("a", soon), soon)).AsTask().WithTimeout();
        await Store.SetAsync("young", new SessionRecord(Json("b"), null)).AsTask().WithTimeout();
        await LetTimePassAsync(TimeSpan.FromSeconds(4));
        Assert.Equal(1, await Store.PruneSessionsAsync().WithTimeout());
        Assert.Equal("young", await Sql("SELECT string_agg(sid, ',') FROM session").WithTimeout());
    }

    [Fact]
    public async Task Prune_timer_starts_lazily_and_prunes()
    {
        var time = new ManualTimeProvider();
        await using var store = NewStore(time, o => { o.TableName = "pruned"; o.PruneSessionInterval = TimeSpan.FromMilliseconds(200); });
        await Task.Delay(500);
        Assert.Equal("", await Sql("SELECT coalesce(to_regclass('pruned')::text, '')").WithTimeout());
        var soon = time.GetUtcNow().AddSeconds(2);
        await store.SetAsync("p", new SessionRecord(Json("a", soon), soon)).AsTask().WithTimeout();
        time.Advance(TimeSpan.FromSeconds(10));
        await TestTimeouts.Eventually(async () => await Sql("SELECT count(*) FROM pruned") == "0", because: "the prune timer deletes the expired row");
    }

    [Fact]
    public async Task Uses_a_given_data_source()
    {
        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionStringFor(_database));
        await using (var store = new PostgreSqlSessionStore(Options.Create(new PostgreSqlSessionStoreOptions { DataSource = dataSource, TableName = "given" }), Time))
        {
            await store.SetAsync("d", new SessionRecord(Json("d"), null)).AsTask().WithTimeout();
        }
        // The store does not own a given data source: it still works after the store is disposed.
        await using var cmd = dataSource.CreateCommand("SELECT sess::text FROM given WHERE sid = 'd'");
        Assert.Equal(Json("d"), await cmd.ExecuteScalarAsync().WithTimeout());
    }

    [Fact]
    public async Task Runs_connect_pg_simple_queries()
    {
        await using var store = NewStore(Time, o => o.TableName = "logged_table");
        var later = Now.AddHours(1);
        await store.SetAsync("l", new SessionRecord(Json("l"), later)).AsTask().WithTimeout();
        await store.GetAsync("l").AsTask().WithTimeout();
        await store.TouchAsync("l", new SessionRecord(Json("l"), later)).AsTask().WithTimeout();
        await store.DestroyAsync("l").AsTask().WithTimeout();
        await store.PruneSessionsAsync().WithTimeout();
        // The server logs every statement (log_statement=all): the text is connect-pg-simple's, with our table.
        string[] expected =
        [
            "SELECT to_regclass($1::text)",
            "INSERT INTO \"logged_table\" (sess, expire, sid) SELECT $1, to_timestamp($2), $3 ON CONFLICT (sid) DO UPDATE SET sess=$1, expire=to_timestamp($2) RETURNING sid",
            "SELECT sess FROM \"logged_table\" WHERE sid = $1 AND expire >= to_timestamp($2)",
            "UPDATE \"logged_table\" SET expire = to_timestamp($1) WHERE sid = $2 RETURNING sid",
            "DELETE FROM \"logged_table\" WHERE sid = $1",
            "DELETE FROM \"logged_table\" WHERE expire < to_timestamp($1)",
        ];
        await TestTimeouts.Eventually(() => expected.All(q => server.Output.Contains(q, StringComparison.Ordinal)), because: "every query is logged; log: " + server.Output[^Math.Min(2000, server.Output.Length)..]);
    }
}

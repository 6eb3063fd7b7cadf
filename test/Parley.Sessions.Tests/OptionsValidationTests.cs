using Microsoft.Extensions.DependencyInjection;
using Parley.Testing;

namespace Parley.Sessions.Tests;

/// <summary>
/// Each store's options are validated by their <c>IValidateOptions</c> at start (<c>ValidateOnStart</c>), not in
/// the store's constructor: a bad value stops the host, and the message names the option.
/// </summary>
public sealed class OptionsValidationTests
{
    [Theory]
    [InlineData("MaxSessions", "MemorySessionStoreOptions.MaxSessions")]
    [InlineData("SweepInterval", "MemorySessionStoreOptions.SweepInterval")]
    [InlineData("DefaultTtl", "MemorySessionStoreOptions.DefaultTtl")]
    public Task A_bad_memory_store_option_fails_at_start_with_its_name(string option, string expected) =>
        OptionsAssert.FailsAtStartAsync(services => services.AddLogging().AddParley().Services.AddParleySessions(o => o.Secrets.Add("s")).AddMemoryStore(o =>
        {
            switch (option)
            {
                case "MaxSessions": o.MaxSessions = 0; break;
                case "SweepInterval": o.SweepInterval = TimeSpan.Zero; break;
                default: o.DefaultTtl = TimeSpan.Zero; break;
            }
        }), expected);

    [Theory]
    [InlineData("ConnectionString", "PostgreSqlSessionStoreOptions.ConnectionString or DataSource")]
    [InlineData("TableName", "PostgreSqlSessionStoreOptions.TableName")]
    [InlineData("Ttl", "PostgreSqlSessionStoreOptions.Ttl")]
    [InlineData("PruneSessionInterval", "PostgreSqlSessionStoreOptions.PruneSessionInterval")]
    public Task A_bad_postgresql_store_option_fails_at_start_with_its_name(string option, string expected) =>
        OptionsAssert.FailsAtStartAsync(services => services.AddLogging().AddParleySessions(o => o.Secrets.Add("s")).AddPostgreSqlStore(o =>
        {
            // Never connected to: validation stops the host first.
            o.ConnectionString = option == "ConnectionString" ? null : "Host=127.0.0.1;Port=1";
            switch (option)
            {
                case "TableName": o.TableName = ""; break;
                case "Ttl": o.Ttl = TimeSpan.Zero; break;
                case "PruneSessionInterval": o.PruneSessionInterval = TimeSpan.Zero; break;
            }
        }), expected);

    [Theory]
    [InlineData("Prefix", "RedisSessionStoreOptions.Prefix")]
    [InlineData("Ttl", "RedisSessionStoreOptions.Ttl")]
    [InlineData("Url", "RedisSessionStoreOptions.Url")]
    public Task A_bad_redis_store_option_fails_at_start_with_its_name(string option, string expected) =>
        OptionsAssert.FailsAtStartAsync(services => services.AddLogging().AddParleySessions(o => o.Secrets.Add("s")).AddRedisStore(o =>
        {
            switch (option)
            {
                case "Prefix": o.Prefix = null!; break;
                case "Ttl": o.Ttl = TimeSpan.FromMilliseconds(500); break;
                default: o.Url = ""; break;
            }
        }), expected);
}

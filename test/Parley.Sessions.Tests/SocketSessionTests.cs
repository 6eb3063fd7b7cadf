using System.Net;
using System.Text.Json.Nodes;
using Parley.Sessions.PostgreSql;
using Parley.Sessions.Redis;
using Parley.Testing;

namespace Parley.Sessions.Tests;

/// <summary>
/// Sessions in the Socket.IO handshake, end to end: HTTP logins on Kestrel, the official socket.io-client, and the
/// memory, PostgreSQL and Redis stores.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SocketSessionTests(PostgresServer postgres, RedisServer redis) : IClassFixture<RedisServer>
{
    private async Task<Action<ParleySessionsBuilder>> StoreAsync(string store)
    {
        switch (store)
        {
            case "memory":
                return _ => { };
            case "postgres":
                var connectionString = postgres.ConnectionStringFor(await postgres.CreateDatabaseAsync("sockets"));
                return b => b.AddPostgreSqlStore(o => o.ConnectionString = connectionString);
            case "redis":
                var prefix = "sess-" + Guid.NewGuid().ToString("N")[..8] + ":";
                return b => b.AddRedisStore(o =>
                {
                    o.Url = redis.Url;
                    o.Prefix = prefix;
                });
            default:
                throw new ArgumentOutOfRangeException(nameof(store));
        }
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("postgres")]
    [InlineData("redis")]
    public async Task A_socket_save_after_HTTP_only_touched_the_session_keeps_the_user_logged_in(string store)
    {
        // With resave false, HTTP requests only touch the store (its expiry moves, the stored JSON's cookie.expires
        // does not). A socket handler's reload → change → save must not write that stale expiry back.
        var time = new ManualTimeProvider();
        await using var app = await SocketApp.StartAsync(new()
        {
            Time = time,
            Sessions = o => o.MaxAge = TimeSpan.FromHours(1),
            Store = await StoreAsync(store),
        });
        var login = await app.LoginAsync("ann");
        var client = await app.ConnectAsync(login.CookiePair);
        Assert.True(client.Connected, client.Error);

        time.Advance(TimeSpan.FromMinutes(50));
        Assert.Equal("ann", (await app.MeAsync(login.CookiePair)).Body);
        time.Advance(TimeSpan.FromMinutes(20));

        Assert.Equal("ok", (await client.EmitWithAckAsync("rename", "bea"))!.GetValue<string>());
        var me = await app.MeAsync(login.CookiePair);
        Assert.Equal(HttpStatusCode.OK, me.Status);
        Assert.Equal("bea", me.Body);
    }
}

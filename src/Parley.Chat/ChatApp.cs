using Parley.Sessions;
using Parley.Sessions.PostgreSql;
using Parley.Sessions.Redis;
using StackExchange.Redis;

namespace Parley.Chat;

/// <summary>Builds the chat application; <c>Program</c> runs it, tests host it on a free port.</summary>
internal static class ChatApp
{
    public const string DefaultUrl = "http://127.0.0.1:5000";

    /// <summary>Builds the app from command-line arguments and configuration; <paramref name="customize"/> lets tests adjust the builder.</summary>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? customize = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        // Log levels as the ASP.NET Core templates ship them (their appsettings.json): Microsoft.AspNetCore at
        // Warning, so every request is not an Information line on the console. Lowest precedence: configuration
        // (appsettings, Logging__LogLevel__* variables, the command line) still overrides.
        builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Information",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
            },
        });
        var settings = ChatSettings.Parse(args, builder.Configuration, out _);
        if (builder.Configuration["urls"] is null && Environment.GetEnvironmentVariable("ASPNETCORE_URLS") is null)
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        var limits = ChatLimits.FromConfiguration(builder.Configuration);
        builder.Services.AddSingleton(limits);
        Npgsql.NpgsqlDataSource? dataSource = null;
        var sessions = builder.Services.AddParleySessions(o =>
        {
            foreach (var secret in settings.Secrets)
            {
                o.Secrets.Add(secret);
            }
            o.MaxAge = TimeSpan.FromDays(7);
            o.SameSite = SameSiteMode.Lax;
        });
        // A chat is where old mobile apps show up: socket.io-client 2.x (Engine.IO v3) is accepted next to v4, and
        // clients built with socket.io-msgpack-parser next to default ones.
        var parley = builder.Services.AddParley(o =>
        {
            o.Engine.AllowEIO3 = true;
            o.Parsers = [SocketParser.Default, SocketParser.MessagePack];
            if (settings.Recovery)
            {
                // A page that drops for a moment gets what it missed, once, in order (docs/recovery.md). In memory
                // on one node; the classic and sharded Redis adapters give no offsets, so with them a page that
                // comes back reloads the history instead.
                // The middlewares run again for a recovered socket: the session middleware gives it its session
                // (ChatSockets reads the name there), and a session that ended while the page was away refuses it.
                o.ConnectionStateRecovery = new ConnectionStateRecoveryOptions { SkipMiddlewares = false };
            }
        });
        if (settings.Redis is not null)
        {
            // One multiplexer for the adapter, the sessions and the history (a Redis Cluster, Sentinel or one server).
            builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(settings.RedisConfiguration()));
            // Broadcasts, presence (FetchSockets) and logout's disconnects reach every node through Redis.
            if (settings.RedisAdapter == "streams")
            {
                // The stream reader has a connection of its own, with the same options (TLS files included).
                parley.AddRedisStreams(o => o.ReaderConfiguration = settings.RedisConfiguration());
            }
            else
            {
                parley.AddRedis(o => o.Sharded = settings.RedisAdapter == "sharded");
            }
        }
        // History goes where the sessions go, so it survives a node restart and every node of a cluster sees it.
        if (settings.SessionStore == "postgres")
        {
            // One data source for sessions and history.
            dataSource = Npgsql.NpgsqlDataSource.Create(settings.Postgres!);
            builder.Services.AddSingleton(dataSource);
            sessions.AddPostgreSqlStore(o => o.DataSource = dataSource);
            builder.Services.AddSingleton<IChatHistory>(new PostgresChatHistory(dataSource, limits, TimeProvider.System));
        }
        else if (settings.Redis is not null)
        {
            if (settings.SessionStore == "redis")
            {
                sessions.AddRedisStore();
            }
            builder.Services.AddSingleton<IChatHistory>(sp => new RedisChatHistory(sp.GetRequiredService<IConnectionMultiplexer>(), ChatSettings.IdleRoomHistoryLife));
        }
        else
        {
            builder.Services.AddSingleton<IChatHistory, MemoryChatHistory>();
        }
        builder.Services.AddSingleton<ChatSockets>();
        builder.AddChatOperations(settings, dataSource);
        customize?.Invoke(builder);

        var app = builder.Build();
        app.UseParleySessions();
        app.MapChatHttp();
        app.MapChatOperations();
        app.MapParley("/socket.io", io =>
        {
            app.Services.GetRequiredService<ChatSockets>().Configure(io);
            if (settings.AdminPasswordHash is { } hash)
            {
                // The operator's admin UI, on its own namespace and password (ChatSettings.AdminPasswordHash).
                io.UseAdminUI(o =>
                {
                    o.Username = settings.AdminUser;
                    o.PasswordHash = hash;
                    o.ReadOnly = settings.AdminReadOnly;
                });
            }
        });
        if (settings.AdminPasswordHash is not null)
        {
            app.MapAdminUIAssets("/admin");
        }
        return app;
    }
}

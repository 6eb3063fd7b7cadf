using Parley.Sessions;
using Parley.Sessions.PostgreSql;

namespace Parley.Chat;

/// <summary>Builds the chat application; <c>Program</c> runs it, tests host it on a free port.</summary>
internal static class ChatApp
{
    public const string DefaultUrl = "http://127.0.0.1:5000";

    /// <summary>Builds the app from command-line arguments and configuration; <paramref name="customize"/> lets tests adjust the builder.</summary>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? customize = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        var settings = ChatSettings.Parse(args, builder.Configuration, out _);
        if (builder.Configuration["urls"] is null && Environment.GetEnvironmentVariable("ASPNETCORE_URLS") is null)
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        var sessions = builder.Services.AddParleySessions(o =>
        {
            foreach (var secret in settings.Secrets)
            {
                o.Secrets.Add(secret);
            }
            o.MaxAge = TimeSpan.FromDays(7);
            o.SameSite = SameSiteMode.Lax;
        });
        if (settings.SessionStore == "postgres")
        {
            // One data source for sessions and history.
            var dataSource = Npgsql.NpgsqlDataSource.Create(settings.Postgres!);
            builder.Services.AddSingleton(dataSource);
            sessions.AddPostgreSqlStore(o => o.DataSource = dataSource);
            builder.Services.AddSingleton<IChatHistory>(new PostgresChatHistory(dataSource));
        }
        else
        {
            builder.Services.AddSingleton<IChatHistory, MemoryChatHistory>();
        }
        builder.Services.AddParley();
        builder.Services.AddSingleton<ChatSockets>();
        customize?.Invoke(builder);

        var app = builder.Build();
        app.UseParleySessions();
        app.MapChatHttp();
        app.MapParley("/socket.io", io => app.Services.GetRequiredService<ChatSockets>().Configure(io));
        return app;
    }
}

// Parley's flagship: the seeds' chat. Users log in over HTTP (the name lives in the express-compatible session),
// then chat in rooms over Socket.IO; the sender's name always comes from the session.
//   dotnet run --project src/Parley.Chat [-- --urls http://127.0.0.1:5000 --secret s1 --secret s0
//                                         --session-store memory|postgres --postgres "<Npgsql connection string>"]
using Parley.Chat;
using Parley.Sessions;
using Parley.Sessions.PostgreSql;

var builder = WebApplication.CreateSlimBuilder(args);
var settings = ChatSettings.Parse(args, builder.Configuration, out _);
if (builder.Configuration["urls"] is null && Environment.GetEnvironmentVariable("ASPNETCORE_URLS") is null)
{
    builder.WebHost.UseUrls("http://127.0.0.1:5000");
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
    sessions.AddPostgreSqlStore(o => o.ConnectionString = settings.Postgres);
}
builder.Services.AddParley();
builder.Services.AddSingleton<IChatHistory, MemoryChatHistory>();
builder.Services.AddSingleton<ChatSockets>();

var app = builder.Build();
app.UseParleySessions();
app.MapChatHttp();
app.MapParley("/socket.io", io => app.Services.GetRequiredService<ChatSockets>().Configure(io));

app.Lifetime.ApplicationStarted.Register(() =>
{
    foreach (var url in app.Urls)
    {
        app.Logger.LogInformation("Parley chat on {Url}", url);
        Console.WriteLine($"Parley chat: open {url} in a browser");
    }
});
app.Run();

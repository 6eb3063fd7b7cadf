// The Parley half of the sample: the same chat contract as ../express/server.mjs, on the same Redis. A user who
// logged in on either app is logged in on both (the connect.sid cookie and connect-redis's sess:<id> records), and
// a message sent on either reaches the clients of both (@socket.io/redis-adapter's channels).
//   dotnet run --project samples/ExpressAndParley/Parley -- --Redis redis://127.0.0.1:6379 --SessionSecret "change me"
using Parley;
using Parley.Sessions;
using Parley.Sessions.Redis;
using Parley.Sessions.SocketIO;

var builder = WebApplication.CreateBuilder(args);
var redis = builder.Configuration["Redis"] ?? "redis://127.0.0.1:6379";
// The Express app's secret list, in the same order: the first signs, every one verifies.
var secret = builder.Configuration["SessionSecret"] ?? "change me";

builder.Services.AddParleySessions(o => o.Secrets.Add(secret)).AddRedisStore(redis);
builder.Services.AddParley().AddRedis(redis);
var app = builder.Build();
app.UseParleySessions();

app.MapPost("/login", async (HttpContext context, LoginRequest login) =>
{
    var name = login.Name?.Trim();
    if (string.IsNullOrEmpty(name))
    {
        return Results.BadRequest(new { error = "name required" });
    }
    var session = context.GetSession();
    await session.RegenerateAsync();
    session.Set("name", name);
    return Results.Ok(new { name });
});
app.MapGet("/me", (HttpContext context) =>
    context.GetSession().Get<string>("name") is { } name ? Results.Ok(new { name }) : Results.Unauthorized());
app.MapPost("/logout", async (HttpContext context) =>
{
    await context.GetSession().DestroyAsync();
    return Results.NoContent();
});

app.MapParley("/socket.io", io =>
{
    io.UseSessions();   // connect_error "unauthorized" without a logged-in session, as the Express side does
    io.OnConnection(socket =>
    {
        var user = socket.GetSession()!.Get<string>("name");
        socket.Join("chat");
        socket.On<string>("message", async text =>
        {
            if (!string.IsNullOrEmpty(text))
            {
                await io.To("chat").EmitAsync("message", new { user, text });
            }
        });
    });
});
app.Run();

internal sealed record LoginRequest(string? Name);

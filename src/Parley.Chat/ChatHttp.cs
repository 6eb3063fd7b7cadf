using System.Reflection;
using System.Text.Json;
using Parley.Sessions;

namespace Parley.Chat;

/// <summary>The chat's HTTP contract: pages, login, logout, <c>/api/me</c>, <c>/healthz</c>.</summary>
internal static class ChatHttp
{
    public const int MaxName = 32;

    public static void MapChatHttp(this WebApplication app)
    {
        app.MapGet("/", (HttpContext context) => Page(context, HasName(context.GetSession()) ? "chat.html" : "login.html"));
        app.MapGet("/chat.js", (HttpContext context) => Page(context, "chat.js"));
        app.MapGet("/chat.css", (HttpContext context) => Page(context, "chat.css"));
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/api/me", (HttpContext context) =>
        {
            var session = context.GetSession();
            return HasName(session) ? Results.Json(new { name = session.Get<string>("name") }) : Results.Json(new { error = "not logged in" }, statusCode: 401);
        });
        app.MapPost("/login", (Delegate)LoginAsync);
        app.MapPost("/logout", (Delegate)LogoutAsync);
    }

    /// <summary>
    /// <c>POST /login</c>, form or JSON <c>{name}</c>: 1–32 characters after trimming, else 400 with a message. The
    /// session id is regenerated so a session fixed before login is not carried into it.
    /// </summary>
    private static async Task<IResult> LoginAsync(HttpContext context)
    {
        var request = context.Request;
        var isForm = request.HasFormContentType;
        string? name = null;
        try
        {
            if (isForm)
            {
                var form = await request.ReadFormAsync(context.RequestAborted);
                name = form["name"].ToString();
            }
            else
            {
                using var doc = await JsonDocument.ParseAsync(request.Body, cancellationToken: context.RequestAborted);
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String)
                {
                    name = n.GetString();
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException or BadHttpRequestException)
        {
            return Results.Json(new { error = "send a form or JSON {\"name\": …}" }, statusCode: 400);
        }
        name = name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxName)
        {
            return Results.Json(new { error = $"name must be 1 to {MaxName} characters" }, statusCode: 400);
        }
        var session = context.GetSession();
        await session.RegenerateAsync(context.RequestAborted);
        session.Set("name", name);
        return isForm ? new SeeOther("/") : Results.Json(new { name });
    }

    /// <summary><c>POST /logout</c>: destroys the session, which disconnects its sockets on every node.</summary>
    private static async Task<IResult> LogoutAsync(HttpContext context)
    {
        var session = context.GetSession();
        await session.DestroyAsync(context.RequestAborted);
        return context.Request.HasFormContentType ? new SeeOther("/") : Results.Json(new { ok = true });
    }

    private static bool HasName(ParleySession session) => !string.IsNullOrEmpty(session.Get<string>("name"));

    private static IResult Page(HttpContext context, string file)
    {
        var stream = typeof(ChatHttp).Assembly.GetManifestResourceStream("Parley.Chat.wwwroot." + file);
        if (stream is null)
        {
            return Results.NotFound();
        }
        context.Response.Headers.CacheControl = "no-cache";
        var type = Path.GetExtension(file) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "application/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            _ => "application/octet-stream",
        };
        return Results.Stream(stream, type);
    }

    /// <summary>303 See Other: the browser follows a form POST with a GET.</summary>
    private sealed class SeeOther(string location) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status303SeeOther;
            httpContext.Response.Headers.Location = location;
            return Task.CompletedTask;
        }
    }
}

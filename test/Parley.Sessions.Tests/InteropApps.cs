using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Parley.Sessions.PostgreSql;
using Parley.Testing;

namespace Parley.Sessions.Tests;

/// <summary>The Parley side of the interop tests: the same three routes as express-app.mjs, on the same table.</summary>
internal static class InteropApps
{
    // Answers as Express's res.json does: no escaping of non-ASCII.
    private static readonly System.Text.Json.JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Task<TestWebHost> StartParleyAsync(string connectionString, string[] secrets, TimeSpan? maxAge = null, string? table = null) =>
        TestWebHost.StartAsync(
            b => b.Services.AddParleySessions(o =>
            {
                foreach (var s in secrets)
                {
                    o.Secrets.Add(s);
                }
                o.MaxAge = maxAge;
            }).AddPostgreSqlStore(o =>
            {
                o.ConnectionString = connectionString;
                o.TableName = table ?? "session";
            }),
            app =>
            {
                app.UseParleySessions();
                app.MapPost("/login", async (HttpContext c) =>
                {
                    var body = await JsonNode.ParseAsync(c.Request.Body);
                    var name = body?["name"]?.GetValue<string>();
                    if (string.IsNullOrEmpty(name))
                    {
                        return Results.BadRequest();
                    }
                    c.GetSession().Set("name", name);
                    return Results.Text(new JsonObject { ["name"] = name }.ToJsonString(Relaxed), "application/json");
                });
                app.MapGet("/me", (HttpContext c) =>
                    c.TryGetSession(out var s) && s.Get<string>("name") is { } name
                        ? Results.Text(new JsonObject { ["name"] = name }.ToJsonString(Relaxed), "application/json")
                        : Results.Text("""{"error":"unauthorized"}""", "application/json", statusCode: 401));
                app.MapPost("/logout", async (HttpContext c) =>
                {
                    await c.GetSession().DestroyAsync();
                    return Results.Text("""{"ok":true}""", "application/json");
                });
            });

    public static async Task<Reply> SendAsync(HttpClient client, HttpMethod method, string path, string? cookie = null, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (cookie is not null)
        {
            request.Headers.TryAddWithoutValidation("Cookie", cookie);
        }
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        using var response = await client.SendAsync(request).WithTimeout();
        var body = await response.Content.ReadAsStringAsync().WithTimeout();
        var setCookies = response.Headers.TryGetValues("Set-Cookie", out var values) ? values.ToArray() : [];
        return new Reply(response.StatusCode, body, setCookies);
    }

    public static Task<Reply> LoginAsync(HttpClient client, string name, string? cookie = null) =>
        SendAsync(client, HttpMethod.Post, "/login", cookie, new JsonObject { ["name"] = name }.ToJsonString());

    public static Task<Reply> MeAsync(HttpClient client, string cookie) => SendAsync(client, HttpMethod.Get, "/me", cookie);

    public static Task<Reply> LogoutAsync(HttpClient client, string cookie) => SendAsync(client, HttpMethod.Post, "/logout", cookie);
}

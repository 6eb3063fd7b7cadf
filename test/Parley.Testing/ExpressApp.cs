using System.Text.Json.Nodes;

namespace Parley.Testing;

/// <summary>
/// Runs test/js/express-app.mjs on a free port: express + express-session with connect-pg-simple or connect-redis, and
/// a socket.io 4.8 server that shares the session middleware (all from npm).
/// </summary>
public sealed class ExpressApp : IAsyncDisposable
{
    private readonly NodeProcess _node;

    private ExpressApp(NodeProcess node, int port)
    {
        _node = node;
        Url = $"http://127.0.0.1:{port}";
        Client = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = new Uri(Url) };
    }

    public string Url { get; }

    public HttpClient Client { get; }

    public string Stderr => _node.Stderr;

    /// <summary>Express with connect-pg-simple on <paramref name="databaseUrl"/>.</summary>
    public static Task<ExpressApp> StartAsync(string databaseUrl, string[] secrets, long? maxAgeMs = null, string? table = null) =>
        StartAsync(secrets, maxAgeMs, new Dictionary<string, string>
        {
            ["STORE"] = "pg",
            ["DATABASE_URL"] = databaseUrl,
            ["TABLE"] = table ?? "",
        });

    /// <summary>Express with connect-redis on <paramref name="redisUrl"/> (keys <c>sess:&lt;id&gt;</c> unless another prefix is given).</summary>
    public static Task<ExpressApp> StartRedisAsync(string redisUrl, string[] secrets, long? maxAgeMs = null, string? prefix = null) =>
        StartAsync(secrets, maxAgeMs, new Dictionary<string, string>
        {
            ["STORE"] = "redis",
            ["REDIS_URL"] = redisUrl,
            ["PREFIX"] = prefix ?? "",
        });

    private static async Task<ExpressApp> StartAsync(string[] secrets, long? maxAgeMs, Dictionary<string, string> environment)
    {
        environment["SECRETS"] = new JsonArray(secrets.Select(s => (JsonNode)s).ToArray()).ToJsonString();
        environment["MAX_AGE"] = maxAgeMs?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "";
        var node = NodeProcess.Start("express-app.mjs", environment);
        var line = await node.Output.ReadLineAsync().WithTimeout(TestTimeouts.ProcessStart);
        if (line is null)
        {
            await node.DisposeAsync();
            throw new InvalidOperationException("express-app.mjs exited: " + node.Stderr);
        }
        return new ExpressApp(node, JsonNode.Parse(line)!["port"]!.GetValue<int>());
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _node.DisposeAsync();
    }
}

using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Parley.Testing;

namespace Parley.Sessions.Tests;

/// <summary>
/// Runs test/js/express-app.mjs on a free port: express + express-session with connect-pg-simple or connect-redis, and
/// a socket.io 4.8 server that shares the session middleware (all from npm).
/// </summary>
public sealed class ExpressApp : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    private ExpressApp(Process process, int port)
    {
        _process = process;
        Url = $"http://127.0.0.1:{port}";
        Client = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = new Uri(Url) };
    }

    public string Url { get; }

    public HttpClient Client { get; }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

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

    private static async Task<ExpressApp> StartAsync(string[] secrets, long? maxAgeMs, Dictionary<string, string> store)
    {
        var psi = new ProcessStartInfo("node", Path.Combine(RepoPaths.JsDir, "express-app.mjs"))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.JsDir,
        };
        foreach (var (k, v) in store)
        {
            psi.Environment[k] = v;
        }
        psi.Environment["SECRETS"] = new JsonArray(secrets.Select(s => (JsonNode)s).ToArray()).ToJsonString();
        psi.Environment["MAX_AGE"] = maxAgeMs?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "";
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start node");
        var line = await process.StandardOutput.ReadLineAsync().WithTimeout();
        if (line is null)
        {
            var err = await process.StandardError.ReadToEndAsync().WithTimeout();
            throw new InvalidOperationException("express-app.mjs exited: " + err);
        }
        var app = new ExpressApp(process, JsonNode.Parse(line)!["port"]!.GetValue<int>());
        process.ErrorDataReceived += (_, e) =>
        {
            lock (app._stderr)
            {
                app._stderr.AppendLine(e.Data);
            }
        };
        process.BeginErrorReadLine();
        return app;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            _process.StandardInput.Close();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }
        finally
        {
            _process.Dispose();
        }
    }
}

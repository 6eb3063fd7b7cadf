using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Parley.Testing;

namespace Parley.Sessions.Tests;

/// <summary>Runs test/js/express-app.mjs (express + express-session + connect-pg-simple from npm) on a free port.</summary>
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

    public static async Task<ExpressApp> StartAsync(string databaseUrl, string[] secrets, long? maxAgeMs = null, string? table = null)
    {
        var psi = new ProcessStartInfo("node", Path.Combine(RepoPaths.JsDir, "express-app.mjs"))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.JsDir,
        };
        psi.Environment["DATABASE_URL"] = databaseUrl;
        psi.Environment["SECRETS"] = new JsonArray(secrets.Select(s => (JsonNode)s).ToArray()).ToJsonString();
        psi.Environment["MAX_AGE"] = maxAgeMs?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "";
        psi.Environment["TABLE"] = table ?? "";
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

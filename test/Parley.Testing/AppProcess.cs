using System.Diagnostics;
using System.Text;

namespace Parley.Testing;

/// <summary>
/// An ASP.NET Core app of this repository as its own process (<c>dotnet App.dll</c> from the test's bin folder, where
/// a project reference puts it) on a free loopback port: what a user runs, started and killed as a user would.
/// </summary>
public sealed class AppProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private AppProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        DataReceivedEventHandler collect = (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_output)
                {
                    _output.AppendLine(e.Data);
                }
            }
        };
        _process.OutputDataReceived += collect;
        _process.ErrorDataReceived += collect;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>What the app printed (its log).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="dll"/> on a free port with <paramref name="args"/> and waits until
    /// <paramref name="readyPath"/> answers with a success status.
    /// </summary>
    public static async Task<AppProcess> StartAsync(string dll, string readyPath, params string[] args)
    {
        var port = LoopbackPort.Free();
        var psi = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, dll), "--urls", $"http://127.0.0.1:{port}", .. args])
        {
            psi.ArgumentList.Add(arg);
        }
        psi.Environment["DOTNET_NOLOGO"] = "1";
        var app = new AppProcess(Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet"), port);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TestTimeouts.ProcessStart;
        while (true)
        {
            try
            {
                if ((await http.GetAsync(app.Url + readyPath)).IsSuccessStatusCode)
                {
                    return app;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // not listening yet
            }
            if (app._process.HasExited || DateTime.UtcNow > deadline)
            {
                var output = app.Output;
                await app.DisposeAsync();
                throw new InvalidOperationException($"{dll} did not start: {output}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>SIGKILL: the app vanishes mid-conversation, as in a crash.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync().WaitAsync(TestTimeouts.Default);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }
        _process.Dispose();
    }
}

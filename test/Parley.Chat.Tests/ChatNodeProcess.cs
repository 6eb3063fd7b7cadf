using System.Diagnostics;
using System.Text;
using Parley.Testing;

namespace Parley.Chat.Tests;

/// <summary>
/// A chat node as its own process (<c>dotnet Parley.Chat.dll</c>, the build the tests reference), for tests that
/// kill a node the way a crash or an operator would: no graceful shutdown, no goodbye to clients or to Redis.
/// </summary>
public sealed class ChatNodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ChatNodeProcess(Process process, int port)
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

    /// <summary>What the node printed (its log).</summary>
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

    /// <summary>Starts a node on a free port with <paramref name="args"/> and waits until <c>/healthz</c> answers.</summary>
    public static async Task<ChatNodeProcess> StartAsync(params string[] args)
    {
        var port = LoopbackPort.Free();
        var psi = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "Parley.Chat.dll"), "--urls", $"http://127.0.0.1:{port}", .. args])
        {
            psi.ArgumentList.Add(arg);
        }
        psi.Environment["DOTNET_NOLOGO"] = "1";
        var node = new ChatNodeProcess(Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet"), port);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (true)
        {
            try
            {
                if ((await http.GetAsync(node.Url + "/healthz")).IsSuccessStatusCode)
                {
                    return node;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // not listening yet
            }
            if (node._process.HasExited || DateTime.UtcNow > deadline)
            {
                var output = node.Output;
                await node.DisposeAsync();
                throw new InvalidOperationException("the chat node did not start: " + output);
            }
            await Task.Delay(100);
        }
    }

    /// <summary>SIGKILL: the node vanishes mid-conversation.</summary>
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

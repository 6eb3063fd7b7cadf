using System.Diagnostics;
using System.Net.Sockets;

namespace Parley.Testing;

/// <summary>
/// Debian's nginx (installed by test.sh) as the chat cluster's load balancer, on a free loopback port, configured
/// from <c>scripts/cluster/nginx.conf</c>: the very file <c>scripts/cluster.sh</c> uses, so the tests check the
/// balancer people run.
/// </summary>
public sealed class NginxServer : IAsyncDisposable
{
    private readonly string _dir;
    private readonly Process _process;

    private NginxServer(string dir, Process process, int port)
    {
        _dir = dir;
        _process = process;
        Port = port;
    }

    /// <summary>The loopback port it listens on.</summary>
    public int Port { get; }

    /// <summary><c>http://127.0.0.1:port</c>.</summary>
    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>Starts a balancer in front of <paramref name="upstreamPorts"/> and waits until it accepts connections.</summary>
    public static async Task<NginxServer> StartAsync(IEnumerable<int> upstreamPorts)
    {
        var dir = Path.Combine(Path.GetTempPath(), "parley-nginx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(dir, "temp"));
        var port = LoopbackPort.Free();
        var servers = string.Join('\n', upstreamPorts.Select(p => $"    server 127.0.0.1:{p} max_fails=0;"));
        var config = (await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "scripts", "cluster", "nginx.conf")))
            .Replace("{{WORK}}", dir, StringComparison.Ordinal)
            .Replace("{{PORT}}", port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{{SERVERS}}", servers, StringComparison.Ordinal);
        var configPath = Path.Combine(dir, "nginx.conf");
        await File.WriteAllTextAsync(configPath, config);

        var psi = new ProcessStartInfo("nginx") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in (string[])["-p", dir, "-c", configPath])
        {
            psi.ArgumentList.Add(arg);
        }
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start nginx (scripts/install-deps.sh installs it)");
        var stderr = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new NginxServer(dir, process, port);
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (!await server.AcceptsAsync())
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                var log = Path.Combine(dir, "nginx-error.log");
                var errors = File.Exists(log) ? await File.ReadAllTextAsync(log) : "";
                await server.DisposeAsync();
                lock (stderr)
                {
                    throw new InvalidOperationException($"nginx did not start: {stderr}{errors}");
                }
            }
            await Task.Delay(50);
        }
        return server;
    }

    private async Task<bool> AcceptsAsync()
    {
        try
        {
            using var client = new TcpClient();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await client.ConnectAsync("127.0.0.1", Port, cts.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TestTimeouts.Default);
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // nginx's worker may still be letting go of its temp files; the folder is in /tmp.
        }
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Xunit;

namespace Parley.Testing;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port, one per test class (<c>IClassFixture&lt;RedisServer&gt;</c>)
/// or per test (<c>await using var redis = await RedisServer.StartAsync("--requirepass", "x")</c>). Started with no
/// persistence; can be stopped, killed and restarted on the same port for fault tests.
/// </summary>
public sealed class RedisServer : IAsyncLifetime, IAsyncDisposable, IRedisDeployment
{
    private readonly string[] _extraArgs;
    // A redis-sentinel, configured by sentinel.conf in its directory (Sentinel needs a file it can rewrite).
    private readonly bool _sentinel;
    // Listening on TLS only (Port is the TLS port) with these certificates.
    private readonly TlsCertificates? _tls;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "parley-redis-" + Guid.NewGuid().ToString("N"));
    private Process? _process;

    /// <summary>For xunit's class fixtures: a plain server.</summary>
    public RedisServer()
        : this([])
    {
    }

    // xunit class fixtures need exactly one public constructor; extra options go through StartAsync.
    private RedisServer(string[] extraArgs, bool sentinel = false, TlsCertificates? tls = null)
    {
        _extraArgs = extraArgs;
        _sentinel = sentinel;
        _tls = tls;
        Port = LoopbackPort.Free();
    }

    /// <summary>The loopback port it listens on (kept across restarts); its TLS port when started with certificates.</summary>
    public int Port { get; }

    /// <summary>The default user's password <see cref="CliAsync"/> authenticates with, when the server demands one.</summary>
    public string? CliPassword { get; set; }

    /// <summary><c>redis://127.0.0.1:port</c>, or <c>rediss://</c> when it listens on TLS only.</summary>
    public string Url => $"{(_tls is null ? "redis" : "rediss")}://127.0.0.1:{Port}";

    /// <summary>Started and not stopped or killed since (it may be paused).</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <inheritdoc />
    public async Task<long> SubscribersAsync(string channel) =>
        long.Parse((await CliAsync("PUBSUB", "NUMSUB", channel)).Split('\n')[^1].Trim(), System.Globalization.CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public async Task<long> ShardSubscribersAsync(string channel) =>
        long.Parse((await CliAsync("PUBSUB", "SHARDNUMSUB", channel)).Split('\n')[^1].Trim(), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Starts a server with extra options and waits until it answers.</summary>
    public static async Task<RedisServer> StartAsync(params string[] extraArgs)
    {
        var server = new RedisServer(extraArgs);
        await server.InitializeAsync();
        return server;
    }

    /// <summary>
    /// Starts a server that listens only on TLS (<c>port 0</c>, <see cref="Port"/> as <c>tls-port</c>) with
    /// <paramref name="tls"/>'s certificates, replicating over TLS, and waits until it answers.
    /// </summary>
    public static async Task<RedisServer> StartTlsAsync(TlsCertificates tls, params string[] extraArgs)
    {
        ArgumentNullException.ThrowIfNull(tls);
        var server = new RedisServer(extraArgs, tls: tls);
        await server.InitializeAsync();
        return server;
    }

    /// <summary>
    /// Starts a <c>redis-sentinel</c> watching the primary on <paramref name="primaryPort"/> as
    /// <paramref name="service"/> (quorum 2, down after 1 s), and waits until it answers.
    /// </summary>
    public static Task<RedisServer> StartSentinelAsync(string service, int primaryPort, params string[] extraConfig) =>
        StartSentinelAsync(null, service, primaryPort, extraConfig);

    /// <summary>
    /// <see cref="StartSentinelAsync(string, int, string[])"/>, and with <paramref name="tls"/> the sentinel listens
    /// only on TLS and reaches the servers and the other sentinels through TLS (<c>tls-replication yes</c>).
    /// </summary>
    public static async Task<RedisServer> StartSentinelAsync(TlsCertificates? tls, string service, int primaryPort, params string[] extraConfig)
    {
        var server = new RedisServer([], sentinel: true, tls);
        var port = server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var config = string.Join('\n',
        [
            "bind 127.0.0.1",
            "port " + (tls is null ? port : "0"),
            .. tls?.RedisDirectives(server.Port).Select(d => d.Name + " " + d.Value) ?? [],
            "dir " + server._dir,
            $"sentinel monitor {service} 127.0.0.1 {primaryPort.ToString(System.Globalization.CultureInfo.InvariantCulture)} 2",
            $"sentinel down-after-milliseconds {service} 1000",
            $"sentinel failover-timeout {service} 10000",
            $"sentinel parallel-syncs {service} 1",
            .. extraConfig,
            "",
        ]);
        Directory.CreateDirectory(server._dir);
        await File.WriteAllTextAsync(Path.Combine(server._dir, "sentinel.conf"), config);
        await server.RestartAsync();
        return server;
    }

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        await RestartAsync();
    }

    /// <summary>Starts the server again on the same port (after <see cref="StopAsync"/> or <see cref="KillAsync"/>).</summary>
    public async Task RestartAsync()
    {
        if (_process is { HasExited: false })
        {
            throw new InvalidOperationException("redis-server is already running");
        }
        _process?.Dispose();
        var psi = new ProcessStartInfo(!_sentinel ? "redis-server" : "redis-sentinel")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _dir,
        };
        string[] args = !_sentinel
            ? ["--save", "", "--appendonly", "no", "--bind", "127.0.0.1", "--dir", _dir, .. PortArgs(), .. _extraArgs]
            : [Path.Combine(_dir, "sentinel.conf")];
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }
        _process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {psi.FileName} (scripts/install-deps.sh installs it)");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (!await AnswersAsync())
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"{psi.FileName} on port {Port} did not start (exit code {(_process.HasExited ? _process.ExitCode : -1)})");
            }
            await Task.Delay(20);
        }
    }

    private IEnumerable<string> PortArgs() => _tls is null
        ? ["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture)]
        : ["--port", "0", .. _tls.RedisDirectives(Port).SelectMany(d => new[] { "--" + d.Name, d.Value })];

    /// <summary>A clean stop: SIGTERM, as an operator restarting Redis would.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } p)
        {
            using var kill = Process.Start("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await p.WaitForExitAsync().WaitAsync(TestTimeouts.Default);
        }
    }

    /// <summary>A crash: SIGKILL, so clients see their connections reset.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } p)
        {
            // SIGKILL works on a stopped process too, so a test that fails while Redis is paused cleans up.
            p.Kill();
            await p.WaitForExitAsync().WaitAsync(TestTimeouts.Default);
        }
    }

    /// <summary>
    /// A hang: SIGSTOP. The kernel keeps the sockets open and even completes new TCP connects, but nothing answers,
    /// as with a frozen process or a partition without resets. Undo with <see cref="ResumeAsync"/>.
    /// </summary>
    public Task PauseAsync() => SignalAsync("-STOP");

    /// <summary>SIGCONT after <see cref="PauseAsync"/>: Redis carries on with whatever is still connected.</summary>
    public Task ResumeAsync() => SignalAsync("-CONT");

    private async Task SignalAsync(string signal)
    {
        if (_process is not { HasExited: false } p)
        {
            throw new InvalidOperationException("redis-server is not running");
        }
        using var kill = Process.Start("kill", [signal, p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync().WaitAsync(TestTimeouts.Default);
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill {signal} {p.Id} failed with {kill.ExitCode}");
        }
    }

    /// <summary>Runs <c>redis-cli -p port args...</c> (for setup and for checks from a second client) and returns its output.</summary>
    public async Task<string> CliAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-p");
        psi.ArgumentList.Add(Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (_tls is not null)
        {
            psi.ArgumentList.Add("--tls");
            psi.ArgumentList.Add("--cacert");
            psi.ArgumentList.Add(_tls.CaFile);
        }
        if (CliPassword is not null)
        {
            psi.ArgumentList.Add("-a");
            psi.ArgumentList.Add(CliPassword);
            psi.ArgumentList.Add("--no-auth-warning");
        }
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TestTimeouts.Default);
        return (await output.WaitAsync(TestTimeouts.Default)).Trim();
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

    /// <summary>True when something on the port answers a RESP PING (+PONG, or -NOAUTH with requirepass).</summary>
    private async Task<bool> AnswersAsync()
    {
        try
        {
            using var client = new TcpClient();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await client.ConnectAsync(IPAddress.Loopback, Port, cts.Token);
            Stream stream = client.GetStream();
            if (_tls is not null)
            {
                var ssl = new SslStream(stream);
                using var ca = X509CertificateLoader.LoadCertificateFromFile(_tls.CaFile);
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "127.0.0.1", CertificateChainPolicy = TrustOnly(ca) }, cts.Token);
                stream = ssl;
            }
            await using var _ = stream;
            await stream.WriteAsync("PING\r\n"u8.ToArray(), cts.Token);
            var buffer = new byte[64];
            var n = await stream.ReadAsync(buffer, cts.Token);
            return n > 0 && (buffer[0] == (byte)'+' || Encoding.ASCII.GetString(buffer, 0, n).Contains("NOAUTH", StringComparison.Ordinal));
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
        {
            return false;
        }
    }

    /// <summary>Certificates are checked against the private CA alone, as a client given <c>--cacert</c> does.</summary>
    private static X509ChainPolicy TrustOnly(X509Certificate2 ca)
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(ca);
        return policy;
    }
}

using System.Diagnostics;
using System.Globalization;
using Xunit;

namespace Parley.Testing;

/// <summary>
/// A real redis-server reached through TLS with a private CA made here by <c>openssl</c> (a CA, and a server
/// certificate for 127.0.0.1 and localhost signed by it); clients are not asked for certificates. One per test class
/// (<c>IClassFixture</c>) or per test (<see cref="StartAsync"/>).
/// </summary>
public sealed class RedisTls : IAsyncLifetime, IAsyncDisposable, IRedisDeployment
{
    private readonly string _dir = Directory.CreateTempSubdirectory("parley-tls-").FullName;
    private RedisServer? _server;

    /// <summary>The server (its plain port is for checks with redis-cli only).</summary>
    public RedisServer Server => _server ?? throw new InvalidOperationException("not started");

    /// <summary>The TLS port.</summary>
    public int TlsPort { get; } = LoopbackPort.Free();

    /// <summary><c>rediss://127.0.0.1:tlsPort</c>.</summary>
    public string Url => "rediss://127.0.0.1:" + TlsPort.ToString(CultureInfo.InvariantCulture);

    /// <summary>The CA certificate (PEM) that signed the server's.</summary>
    public string CaFile => Path.Combine(_dir, "ca.crt");

    public static async Task<RedisTls> StartAsync()
    {
        var tls = new RedisTls();
        await tls.InitializeAsync();
        return tls;
    }

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        await OpenSslAsync("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=parley-test-ca", "-keyout", "ca.key", "-out", "ca.crt");
        await OpenSslAsync("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr");
        await File.WriteAllTextAsync(Path.Combine(_dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
        await OpenSslAsync("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.crt");
        _server = await RedisServer.StartAsync(
            "--tls-port", TlsPort.ToString(CultureInfo.InvariantCulture), "--tls-auth-clients", "no",
            "--tls-cert-file", Path.Combine(_dir, "server.crt"), "--tls-key-file", Path.Combine(_dir, "server.key"), "--tls-ca-cert-file", CaFile);
    }

    /// <inheritdoc />
    public Task<long> SubscribersAsync(string channel) => Server.SubscribersAsync(channel);

    /// <inheritdoc />
    public Task<long> ShardSubscribersAsync(string channel) => Server.ShardSubscribersAsync(channel);

    private async Task OpenSslAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("openssl") { WorkingDirectory = _dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }
        using var p = Process.Start(psi)!;
        var error = p.StandardError.ReadToEndAsync();
        await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TestTimeouts.Default);
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException("openssl " + string.Join(' ', args) + ": " + await error);
        }
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();
}

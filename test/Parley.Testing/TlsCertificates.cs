using System.Diagnostics;

namespace Parley.Testing;

/// <summary>
/// A private CA made here by <c>openssl</c> and a server certificate for 127.0.0.1 and localhost signed by it, in a
/// temporary directory deleted on dispose. Redis servers and sentinels started with it listen on TLS only
/// (<see cref="RedisDirectives"/>); clients are not asked for certificates.
/// </summary>
public sealed class TlsCertificates : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("parley-tls-").FullName;

    private TlsCertificates()
    {
    }

    /// <summary>The CA certificate (PEM) that signed the server's.</summary>
    public string CaFile => Path.Combine(_dir, "ca.crt");

    /// <summary>The server certificate (PEM), with subjectAltName IP:127.0.0.1 and DNS:localhost.</summary>
    public string CertFile => Path.Combine(_dir, "server.crt");

    /// <summary>The server certificate's private key (PEM).</summary>
    public string KeyFile => Path.Combine(_dir, "server.key");

    /// <summary>Makes the CA and the server certificate.</summary>
    public static async Task<TlsCertificates> CreateAsync()
    {
        var certificates = new TlsCertificates();
        await certificates.OpenSslAsync("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=parley-test-ca", "-keyout", "ca.key", "-out", "ca.crt");
        await certificates.OpenSslAsync("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr");
        await File.WriteAllTextAsync(Path.Combine(certificates._dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
        await certificates.OpenSslAsync("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.crt");
        return certificates;
    }

    /// <summary>
    /// The redis.conf directives (one a line, as in a file; <c>--name value</c> on a command line) that make a
    /// server or sentinel serve <paramref name="tlsPort"/> with these certificates. Without <c>port 0</c> the plain
    /// port stays open too. <c>tls-replication yes</c>: a replica's link to its primary, and a sentinel's links to the
    /// servers and the other sentinels, are TLS (Redis's redis.conf / sentinel.conf, "TLS/SSL" section).
    /// </summary>
    public IEnumerable<(string Name, string Value)> RedisDirectives(int tlsPort) =>
    [
        ("tls-port", tlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ("tls-auth-clients", "no"),
        ("tls-cert-file", CertFile),
        ("tls-key-file", KeyFile),
        ("tls-ca-cert-file", CaFile),
        ("tls-replication", "yes"),
        ("tls-cluster", "no"),
    ];

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
    public ValueTask DisposeAsync()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }
}

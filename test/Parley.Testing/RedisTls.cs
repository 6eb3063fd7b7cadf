using System.Globalization;
using Xunit;

namespace Parley.Testing;

/// <summary>
/// A real redis-server reached through TLS with a private CA made here (<see cref="TlsCertificates"/>); clients are
/// not asked for certificates. One per test class (<c>IClassFixture</c>) or per test (<see cref="StartAsync"/>).
/// </summary>
public sealed class RedisTls : IAsyncLifetime, IAsyncDisposable, IRedisDeployment
{
    private TlsCertificates? _certificates;
    private RedisServer? _server;

    /// <summary>The server (its plain port is for checks with redis-cli only).</summary>
    public RedisServer Server => _server ?? throw new InvalidOperationException("not started");

    /// <summary>The TLS port.</summary>
    public int TlsPort { get; } = LoopbackPort.Free();

    /// <summary><c>rediss://127.0.0.1:tlsPort</c>.</summary>
    public string Url => "rediss://127.0.0.1:" + TlsPort.ToString(CultureInfo.InvariantCulture);

    /// <summary>The CA certificate (PEM) that signed the server's.</summary>
    public string CaFile => (_certificates ?? throw new InvalidOperationException("not started")).CaFile;

    public static async Task<RedisTls> StartAsync()
    {
        var tls = new RedisTls();
        await tls.InitializeAsync();
        return tls;
    }

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _certificates = await TlsCertificates.CreateAsync();
        _server = await RedisServer.StartAsync([.. _certificates.RedisDirectives(TlsPort).SelectMany(d => new[] { "--" + d.Name, d.Value })]);
    }

    /// <inheritdoc />
    public Task<long> SubscribersAsync(string channel) => Server.SubscribersAsync(channel);

    /// <inheritdoc />
    public Task<long> ShardSubscribersAsync(string channel) => Server.ShardSubscribersAsync(channel);

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        if (_certificates is not null)
        {
            await _certificates.DisposeAsync();
        }
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();
}

using System.Globalization;
using Xunit;

namespace Parley.Testing;

/// <summary>
/// A real Sentinel deployment on loopback: a primary, a replica (<c>--replicaof</c>) and three <c>redis-sentinel</c>
/// processes watching them as <see cref="Service"/> (quorum 2, down after 1 s), ready when every sentinel knows the
/// replica and the two other sentinels and the replica's link is up. Parley is given the StackExchange.Redis form
/// (<c>s1:p,s2:p,s3:p,serviceName=…</c>): it asks the sentinels for the primary and follows their
/// <c>+switch-master</c>. One per test class (<c>IClassFixture</c>): a failover test leaves the roles swapped.
/// </summary>
public class RedisSentinel : IAsyncLifetime, IRedisDeployment
{
    /// <summary>The name the sentinels know the primary by.</summary>
    public const string Service = "parley";

    private readonly List<RedisServer> _sentinels = [];
    private readonly string? _password;
    private readonly bool _useTls;
    private TlsCertificates? _tls;

    /// <summary>For xunit's class fixtures: no authentication anywhere.</summary>
    public RedisSentinel()
    {
    }

    /// <summary>
    /// Every data server and sentinel demands <paramref name="password"/> of the default user and knows the ACL user
    /// <see cref="AclUser"/>; the replica and the sentinels authenticate with the password, Parley as the ACL user.
    /// </summary>
    protected RedisSentinel(string password)
        : this(password, tls: false)
    {
    }

    /// <summary>
    /// With <paramref name="tls"/>, every data server and sentinel listens only on TLS with certificates from a
    /// private CA (<see cref="CaFile"/>), and replication and the sentinels' links are TLS too.
    /// </summary>
    protected RedisSentinel(string? password, bool tls)
    {
        _password = password;
        _useTls = tls;
    }

    /// <summary>The private CA that signed the servers' and sentinels' certificates, when they listen on TLS.</summary>
    public string? CaFile => _tls?.CaFile;

    /// <summary>The ACL user (and its password) Parley connects as when the deployment demands authentication.</summary>
    public const string AclUser = "app";

    /// <summary>The ACL user's password.</summary>
    public const string AclPassword = "app-secret";

    /// <summary>The data servers: the first started as primary, the second as its replica (roles change on failover).</summary>
    public IReadOnlyList<RedisServer> Servers { get; private set; } = [];

    /// <summary>The three sentinels.</summary>
    public IReadOnlyList<RedisServer> Sentinels => _sentinels;

    /// <summary>
    /// The configuration Parley is given: the sentinels' addresses and the service name (and <c>ssl=true</c> on TLS:
    /// the client must also trust <see cref="CaFile"/>).
    /// </summary>
    public string Url => string.Join(",", _sentinels.Select(s => "127.0.0.1:" + s.Port.ToString(CultureInfo.InvariantCulture))) + ",serviceName=" + Service +
        (_password is null ? "" : $",user={AclUser},password={AclPassword}") + (_useTls ? ",ssl=true" : "");

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        string[] auth = _password is null ? [] : ["--requirepass", _password, "--masterauth", _password, "--user", AclUser, "on", ">" + AclPassword, "~*", "&*", "+@all"];
        _tls = _useTls ? await TlsCertificates.CreateAsync() : null;
        var primary = await StartServerAsync(auth);
        var replica = await StartServerAsync([.. auth, "--replicaof", "127.0.0.1", primary.Port.ToString(CultureInfo.InvariantCulture)]);
        Servers = [primary, replica];
        string[] sentinelAuth = _password is null ? [] :
        [
            $"sentinel auth-pass {Service} {_password}",
            $"sentinel sentinel-pass {_password}",
            $"requirepass {_password}",
            $"user {AclUser} on >{AclPassword} +@all",
        ];
        for (var i = 0; i < 3; i++)
        {
            _sentinels.Add(await RedisServer.StartSentinelAsync(_tls, Service, primary.Port, sentinelAuth));
        }
        foreach (var server in _sentinels.Concat(Servers))
        {
            server.CliPassword = _password;
        }
        await WaitUntilHealthyAsync();
    }

    private Task<RedisServer> StartServerAsync(string[] args) => _tls is null ? RedisServer.StartAsync(args) : RedisServer.StartTlsAsync(_tls, args);

    /// <summary>Every running sentinel knows a primary, its replica and the two other sentinels, and the replica is in sync.</summary>
    public Task WaitUntilHealthyAsync() =>
        TestTimeouts.Eventually(async () =>
        {
            foreach (var sentinel in _sentinels.Where(s => s.IsRunning))
            {
                var primary = Field(await sentinel.CliAsync("SENTINEL", "MASTER", Service));
                if (primary("num-slaves") != "1" || primary("num-other-sentinels") != "2" || primary("flags") != "master")
                {
                    return false;
                }
            }
            var current = await PrimaryAsync();
            var replica = Servers.Single(s => s != current);
            return replica.IsRunning && (await replica.CliAsync("INFO", "replication")).Contains("master_link_status:up", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(60), "the sentinels agree on a primary with one synced replica");

    /// <summary>The data server the sentinels name as primary now.</summary>
    public async Task<RedisServer> PrimaryAsync()
    {
        var asked = _sentinels.First(s => s.IsRunning);
        var address = (await asked.CliAsync("SENTINEL", "GET-MASTER-ADDR-BY-NAME", Service)).Split('\n', StringSplitOptions.TrimEntries);
        return Servers.Single(s => s.Port.ToString(CultureInfo.InvariantCulture) == address[^1]);
    }

    /// <inheritdoc />
    public Task<long> ShardSubscribersAsync(string channel) => SumAsync(s => s.ShardSubscribersAsync(channel));

    /// <inheritdoc />
    /// <remarks>On both data servers: a client may subscribe on the replica.</remarks>
    public Task<long> SubscribersAsync(string channel) => SumAsync(s => s.SubscribersAsync(channel));

    private async Task<long> SumAsync(Func<RedisServer, Task<long>> count)
    {
        long total = 0;
        foreach (var server in Servers.Where(s => s.IsRunning))
        {
            total += await count(server);
        }
        return total;
    }

    /// <summary>redis-cli prints a reply of field/value pairs one per line: a lookup by field.</summary>
    private static Func<string, string?> Field(string reply)
    {
        var lines = reply.Split('\n', StringSplitOptions.TrimEntries);
        return name =>
        {
            for (var i = 0; i + 1 < lines.Length; i += 2)
            {
                if (lines[i] == name)
                {
                    return lines[i + 1];
                }
            }
            return null;
        };
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        foreach (var server in _sentinels.Concat(Servers))
        {
            await server.DisposeAsync();
        }
        if (_tls is not null)
        {
            await _tls.DisposeAsync();
        }
    }
}

/// <summary>
/// <see cref="RedisSentinel"/> with authentication on: the default user's password on every data server and sentinel,
/// and the ACL user <see cref="RedisSentinel.AclUser"/> that Parley connects as (to the sentinels and the primary).
/// </summary>
public sealed class AuthenticatedRedisSentinel : RedisSentinel
{
    /// <summary>For xunit's class fixtures.</summary>
    public AuthenticatedRedisSentinel()
        : base("root-secret")
    {
    }
}

/// <summary>
/// <see cref="RedisSentinel"/> on TLS only: the data servers and the sentinels serve only their TLS ports, with
/// certificates from a private CA made by the fixture (<see cref="RedisSentinel.CaFile"/>); replication and the
/// sentinels' links to the servers and to each other are TLS. Parley is given <c>ssl=true</c> and must trust the CA.
/// </summary>
public sealed class TlsRedisSentinel : RedisSentinel
{
    /// <summary>For xunit's class fixtures.</summary>
    public TlsRedisSentinel()
        : base(null, tls: true)
    {
    }
}

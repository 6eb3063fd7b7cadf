using System.Globalization;
using System.Net.Security;

namespace Parley.Resp;

/// <summary>
/// Where and how Parley connects to Redis. Usually made from a URL with <see cref="Parse"/>:
/// <c>redis://[[user]:password@]host[:port][/db]</c>, or <c>rediss://</c> for TLS — the same form node-redis and
/// ioredis accept, so one configuration value serves a mixed Node/.NET cluster.
/// </summary>
public sealed class RespConnectionOptions
{
    /// <summary>Host name or address. Default <c>127.0.0.1</c>.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>TCP port. Default 6379.</summary>
    public int Port { get; set; } = 6379;

    /// <summary>ACL user for <c>AUTH user password</c> (Redis 6+); null sends <c>AUTH password</c>.</summary>
    public string? User { get; set; }

    /// <summary>Password; null sends no AUTH.</summary>
    public string? Password { get; set; }

    /// <summary>Database selected with <c>SELECT</c> after connecting. Default 0 (no SELECT sent).</summary>
    public int Database { get; set; }

    /// <summary>Connect with TLS (<c>rediss://</c>).</summary>
    public bool UseTls { get; set; }

    /// <summary>Certificate check for TLS; null uses the platform's default validation.</summary>
    public RemoteCertificateValidationCallback? CertificateValidation { get; set; }

    /// <summary>Name set with <c>CLIENT SETNAME</c> (shows in <c>CLIENT LIST</c>); null sends nothing.</summary>
    public string? ClientName { get; set; }

    /// <summary>How long a command may wait for its reply. Default 5 s, like node-redis' socket timeout scale.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one connection attempt (TCP, TLS, AUTH, SELECT) may take. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>First delay before reconnecting; doubled per failed attempt. Default 50 ms.</summary>
    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Cap of the reconnect delay. Default 2 s.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How often each connection (the subscriber too) sends <c>PING</c>. A PING without a reply within
    /// <see cref="CommandTimeout"/> drops the connection and reconnects: that is how a Redis that hangs (stopped
    /// process, network partition, a peer that vanished without a reset) is noticed. Default 2 s;
    /// <see cref="TimeSpan.Zero"/> turns it off (then only TCP keepalive and command timeouts notice).
    /// </summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How many commands one connection may have waiting for replies (sent or not). Past it, new commands fail at
    /// once with <see cref="RespQueueFullException"/> instead of piling up in memory while Redis does not answer.
    /// Default 100,000.
    /// </summary>
    public int MaxPendingCommands { get; set; } = 100_000;

    /// <summary>
    /// How many bytes of commands one connection may hold that are not yet written to the socket. Past it, new
    /// commands fail at once with <see cref="RespQueueFullException"/>. Default 32 MiB.
    /// </summary>
    public long MaxQueuedBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>Parses <c>redis://</c> / <c>rediss://</c> URLs; user, password and db are optional.</summary>
    public static RespConnectionOptions Parse(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        if (!Uri.TryCreate(connectionString, UriKind.Absolute, out var uri) || uri.Scheme is not ("redis" or "rediss"))
        {
            throw new FormatException($"'{connectionString}' is not a redis:// or rediss:// URL");
        }
        var options = new RespConnectionOptions
        {
            Host = uri.Host.Trim('[', ']'),
            Port = uri.IsDefaultPort || uri.Port < 0 ? 6379 : uri.Port,
            UseTls = uri.Scheme == "rediss",
        };
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            var user = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon < 0)
            {
                // redis://secret@host: node-redis treats a lone userinfo as the password of the default user.
                options.Password = user;
            }
            else
            {
                options.User = user.Length == 0 ? null : user;
                options.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            }
        }
        var path = uri.AbsolutePath.Trim('/');
        if (path.Length > 0)
        {
            if (!int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out var db))
            {
                throw new FormatException($"'{path}' in '{connectionString}' is not a database number");
            }
            options.Database = db;
        }
        return options;
    }

    internal void Validate()
    {
        if (string.IsNullOrEmpty(Host) || Port is <= 0 or > 65535 || Database < 0)
        {
            throw new ArgumentException("RespConnectionOptions needs a host, a port in 1..65535 and a database >= 0");
        }
        if (CommandTimeout <= TimeSpan.Zero || ConnectTimeout <= TimeSpan.Zero || ReconnectMinDelay <= TimeSpan.Zero || ReconnectMaxDelay < ReconnectMinDelay)
        {
            throw new ArgumentException("RespConnectionOptions timeouts and delays must be positive, and ReconnectMaxDelay >= ReconnectMinDelay");
        }
        if (PingInterval < TimeSpan.Zero || MaxPendingCommands <= 0 || MaxQueuedBytes <= 0)
        {
            throw new ArgumentException("RespConnectionOptions.PingInterval must not be negative, MaxPendingCommands and MaxQueuedBytes must be positive");
        }
    }

    /// <summary>The address without secrets, for logs.</summary>
    public override string ToString() =>
        $"{(UseTls ? "rediss" : "redis")}://{Host}:{Port.ToString(CultureInfo.InvariantCulture)}/{Database.ToString(CultureInfo.InvariantCulture)}";
}

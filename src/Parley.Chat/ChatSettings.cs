using Parley.Internal;
using StackExchange.Redis;

namespace Parley.Chat;

/// <summary>The chat's settings, from the command line (<c>--secret</c> repeatable) and configuration (<c>Parley__*</c>).</summary>
internal sealed class ChatSettings
{
    public List<string> Secrets { get; } = [];

    public string SessionStore { get; set; } = "memory";

    public string? Postgres { get; set; }

    /// <summary>
    /// <c>--redis</c>: sessions, the Socket.IO adapter and history go to Redis. A URL
    /// (<c>redis://[[user]:password@]host[:port][/db]</c>, <c>rediss://</c> for TLS), a Redis Cluster's seed list
    /// (<c>redis://h1:7000,h2:7001,h3:7002</c>) or a StackExchange.Redis configuration string (Sentinel:
    /// <c>sentinel1:26379,sentinel2:26379,serviceName=mymaster</c>).
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>
    /// <c>--redis-adapter streams|classic|sharded</c>: the Socket.IO adapter. Default streams (Redis Streams: a node
    /// that loses Redis catches up, and connection state recovery works across nodes); classic and sharded are the
    /// pub/sub adapters of <c>@socket.io/redis-adapter</c> (sharded: SSUBSCRIBE/SPUBLISH, Redis 7+).
    /// </summary>
    public string RedisAdapter { get; set; } = "streams";

    /// <summary><c>--redis-ca file.pem</c>: the CA that signed the Redis servers' certificates (TLS).</summary>
    public string? RedisCa { get; set; }

    /// <summary><c>--redis-cert file.pem</c> (with <c>--redis-key file.pem</c>): a client certificate for TLS.</summary>
    public string? RedisCert { get; set; }

    /// <summary><c>--redis-key file.pem</c>: the client certificate's private key.</summary>
    public string? RedisKey { get; set; }

    /// <summary>How long a room's Redis history lives after its last message (renewed by each message).</summary>
    public static readonly TimeSpan IdleRoomHistoryLife = TimeSpan.FromDays(7);

    /// <summary>StackExchange.Redis options from <c>--redis</c> and the TLS files; connections fail fast while Redis is down.</summary>
    public ConfigurationOptions RedisConfiguration()
    {
        var options = Internal.RedisConfiguration.Parse(Redis!);
        options.BacklogPolicy = BacklogPolicy.FailFast;
        if (RedisCa is not null)
        {
            options.Ssl = true;
            options.TrustIssuer(RedisCa);
        }
        if (RedisCert is not null)
        {
            options.Ssl = true;
            options.SetUserPemCertificate(RedisCert, RedisKey);
        }
        return options;
    }

    /// <summary>
    /// Connection state recovery (on; <c>--no-recovery</c> or <c>Parley:Recovery=false</c> turns it off): a page that
    /// drops for up to two minutes gets the messages it missed instead of reloading the history.
    /// </summary>
    public bool Recovery { get; set; } = true;

    /// <summary><c>--json-logs</c>: console logs as JSON lines (one object per entry), for log shippers.</summary>
    public bool JsonLogs { get; set; }

    /// <summary><c>--otlp http://collector:4317</c> (or <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>): also push metrics over OTLP.</summary>
    public string? Otlp { get; set; }

    /// <summary>
    /// <c>--admin-password-hash '$2b$10$…'</c> (or <c>Parley:AdminPasswordHash</c>): the bcrypt hash of the operator's
    /// password. With it the chat serves the Socket.IO Admin UI at <c>/admin</c>; without it there is no admin UI at
    /// all. Chat sessions grant nothing there: only this password (or the session id the UI gets for it) does.
    /// </summary>
    public string? AdminPasswordHash { get; set; }

    /// <summary><c>--admin-user</c> (default <c>admin</c>): the operator's user name in the admin UI.</summary>
    public string AdminUser { get; set; } = "admin";

    /// <summary><c>--admin-readonly</c>: the admin UI shows but cannot disconnect, join, leave or emit.</summary>
    public bool AdminReadOnly { get; set; }

    /// <summary>
    /// Reads <c>--secret</c> (repeatable), <c>--session-store memory|redis|postgres</c>, <c>--postgres</c> and
    /// <c>--redis</c> (which also makes Redis the default session store); the same
    /// names under <c>Parley:</c> in configuration (environment <c>Parley__Secret</c>, comma-separated for several).
    /// Anything else on the command line is left to ASP.NET Core (<c>--urls</c>).
    /// </summary>
    public static ChatSettings Parse(string[] args, Microsoft.Extensions.Configuration.IConfiguration configuration, out string[] rest)
    {
        var settings = new ChatSettings();
        string? store = null;
        var remaining = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var (name, value) = Split(args, ref i);
            switch (name)
            {
                case "--secret":
                    settings.Secrets.Add(Require(name, value));
                    break;
                case "--session-store":
                    store = Require(name, value);
                    break;
                case "--postgres":
                    settings.Postgres = Require(name, value);
                    break;
                case "--redis":
                    settings.Redis = Require(name, value);
                    break;
                case "--redis-adapter":
                    settings.RedisAdapter = Require(name, value);
                    break;
                case "--redis-ca":
                    settings.RedisCa = Require(name, value);
                    break;
                case "--redis-cert":
                    settings.RedisCert = Require(name, value);
                    break;
                case "--redis-key":
                    settings.RedisKey = Require(name, value);
                    break;
                case "--admin-password-hash":
                    settings.AdminPasswordHash = Require(name, value);
                    break;
                case "--admin-user":
                    settings.AdminUser = Require(name, value);
                    break;
                case "--admin-readonly":
                    settings.AdminReadOnly = true;
                    break;
                case "--json-logs":
                    settings.JsonLogs = true;
                    break;
                case "--no-recovery":
                    settings.Recovery = false;
                    break;
                case "--otlp":
                    settings.Otlp = Require(name, value);
                    break;
                default:
                    remaining.Add(args[i]);
                    break;
            }
        }
        rest = [.. remaining];
        if (settings.Secrets.Count == 0 && configuration["Parley:Secret"] is { Length: > 0 } secrets)
        {
            settings.Secrets.AddRange(secrets.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }
        settings.Postgres ??= configuration["Parley:Postgres"];
        settings.Redis ??= configuration["Parley:Redis"];
        if (configuration["Parley:RedisAdapter"] is { Length: > 0 } adapter && !args.Any(a => a.StartsWith("--redis-adapter", StringComparison.Ordinal)))
        {
            settings.RedisAdapter = adapter;
        }
        settings.RedisCa ??= configuration["Parley:RedisCa"];
        settings.RedisCert ??= configuration["Parley:RedisCert"];
        settings.RedisKey ??= configuration["Parley:RedisKey"];
        if (settings.RedisAdapter is not ("streams" or "classic" or "sharded"))
        {
            throw new ArgumentException($"--redis-adapter must be streams, classic or sharded, not '{settings.RedisAdapter}'.");
        }
        if (settings.RedisKey is not null && settings.RedisCert is null)
        {
            throw new ArgumentException("--redis-key needs --redis-cert.");
        }
        if (settings.Redis is not null)
        {
            // A malformed --redis fails at start-up with the parser's message, not at the first request.
            _ = settings.RedisConfiguration();
        }

        settings.Otlp ??= configuration["Parley:Otlp"];
        settings.AdminPasswordHash ??= configuration["Parley:AdminPasswordHash"];
        if (configuration["Parley:AdminUser"] is { Length: > 0 } adminUser && !args.Any(a => a.StartsWith("--admin-user", StringComparison.Ordinal)))
        {
            settings.AdminUser = adminUser;
        }
        settings.AdminReadOnly |= string.Equals(configuration["Parley:AdminReadOnly"], "true", StringComparison.OrdinalIgnoreCase);
        if (settings.AdminPasswordHash is { } hash && !Parley.AdminUI.AdminUIPassword.IsBcryptHash(hash))
        {
            throw new ArgumentException("--admin-password-hash must be a bcrypt hash ($2b$10$…), never the password itself.");
        }
        settings.JsonLogs |= string.Equals(configuration["Parley:JsonLogs"], "true", StringComparison.OrdinalIgnoreCase);
        settings.Recovery &= !string.Equals(configuration["Parley:Recovery"], "false", StringComparison.OrdinalIgnoreCase);
        // The command line wins over configuration; with neither, Redis (when given) holds the sessions too.
        if (store is null && configuration["Parley:SessionStore"] is { Length: > 0 } configured)
        {
            store = configured;
        }
        settings.SessionStore = store ?? (settings.Redis is null ? "memory" : "redis");
        if (settings.SessionStore is not ("memory" or "postgres" or "redis"))
        {
            throw new ArgumentException($"--session-store must be memory, redis or postgres, not '{settings.SessionStore}'.");
        }
        if (settings.SessionStore == "redis" && string.IsNullOrEmpty(settings.Redis))
        {
            throw new ArgumentException("--session-store redis needs --redis redis://host:port.");
        }
        if (settings.SessionStore == "postgres" && string.IsNullOrEmpty(settings.Postgres))
        {
            throw new ArgumentException("--session-store postgres needs --postgres \"<Npgsql connection string>\".");
        }
        return settings;
    }

    private static (string Name, string? Value) Split(string[] args, ref int i)
    {
        var arg = args[i];
        var eq = arg.IndexOf('=', StringComparison.Ordinal);
        if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
        {
            return (arg[..eq], arg[(eq + 1)..]);
        }
        if (arg is "--secret" or "--session-store" or "--postgres" or "--redis" or "--redis-adapter" or "--redis-ca" or "--redis-cert" or "--redis-key" or "--otlp" or "--admin-password-hash" or "--admin-user")
        {
            return (arg, i + 1 < args.Length ? args[++i] : null);
        }
        return (arg, null);
    }

    private static string Require(string name, string? value) =>
        string.IsNullOrEmpty(value) ? throw new ArgumentException($"{name} needs a value.") : value;
}

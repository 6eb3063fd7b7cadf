using System.Globalization;
using System.Net;
using StackExchange.Redis;

namespace Parley.Internal;

/// <summary>
/// Turns what an operator writes into StackExchange.Redis options. Shared source, linked into Parley.Redis,
/// Parley.Sessions.Redis and the chat (as aspnetcore shares src/Shared), so there is one parser and no public API.
/// <list type="bullet">
/// <item><c>redis://[[user]:password@]host[:port][,host[:port]…][/db]</c> or <c>rediss://</c> (TLS): the URL Node
/// users keep in REDIS_URL (node-redis / ioredis); several hosts are a seed list (a Redis Cluster's nodes);</item>
/// <item>anything else is a StackExchange.Redis configuration string (<c>host:port,password=…,ssl=true</c>;
/// <c>serviceName=…</c> with sentinel addresses for Sentinel).</item>
/// </list>
/// </summary>
internal static class RedisConfiguration
{
    /// <summary>The default port of node-redis and ioredis, for both schemes.</summary>
    private const int DefaultPort = 6379;

    public static ConfigurationOptions Parse(string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value);
        var options = value.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase)
            ? ParseUrl(value)
            : ConfigurationOptions.Parse(value);
        // RESP2 unless the configuration string asks otherwise: commands and pub/sub then have a socket each, as
        // Node's adapter has a pub and a sub client, and a burst of incoming messages never delays a PUBLISH. RESP3's
        // connect paths had pub/sub bugs until 3.1.31 (StackExchange.Redis #3154: subscriptions poisoned on a RESP2
        // downgrade; #3172: credentials out of step after a failed HELLO).
        options.Protocol ??= RedisProtocol.Resp2;
        // A node starts while Redis is down and keeps trying in the background, from 50 ms doubling to 2 s (the
        // default waits up to half the connect timeout between tries, which delays recovery after a restart).
        options.AbortOnConnectFail = false;
        options.ReconnectRetryPolicy = new ExponentialRetry(50, 2000);
        // Every idle connection, the subscriber's too, sends a PING every 2 s, and the command connection checks
        // every heartbeat's PING reply: a Redis that hangs without closing the socket is noticed (after 4 timeouts
        // without a read), not waited on for ever.
        options.KeepAlive = 2;
        options.HeartbeatConsistencyChecks = true;
        return options;
    }

    /// <summary>The addresses without secrets, for logs and health reports: <c>redis://host:port[,…]/db</c>.</summary>
    public static string Describe(ConfigurationOptions options)
    {
        var hosts = string.Join(",", options.EndPoints.Select(Format));
        var name = options.ServiceName is { Length: > 0 } service ? "sentinel:" + service + "@" : "";
        return $"{(options.Ssl ? "rediss" : "redis")}://{name}{hosts}/{(options.DefaultDatabase ?? 0).ToString(CultureInfo.InvariantCulture)}";
    }

    private static string Format(EndPoint endpoint) => endpoint switch
    {
        DnsEndPoint dns => dns.Host + ":" + dns.Port.ToString(CultureInfo.InvariantCulture),
        IPEndPoint ip => ip.ToString(),
        _ => endpoint.ToString() ?? "",
    };

    private static ConfigurationOptions ParseUrl(string url)
    {
        var tls = url.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase);
        var rest = url[(tls ? "rediss://".Length : "redis://".Length)..];
        var query = rest.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0)
        {
            // No query options are understood: refusing them beats silently ignoring a setting.
            throw new FormatException($"'{Redact(url)}': query options are not supported; use a StackExchange.Redis configuration string instead");
        }
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash < 0 ? rest : rest[..slash];
        var path = slash < 0 ? "" : rest[(slash + 1)..].TrimEnd('/');
        var options = new ConfigurationOptions { Ssl = tls };
        var at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            var userInfo = authority[..at];
            authority = authority[(at + 1)..];
            var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                // redis://secret@host: node-redis treats a lone userinfo as the default user's password.
                options.Password = Uri.UnescapeDataString(userInfo);
            }
            else
            {
                var user = Uri.UnescapeDataString(userInfo[..colon]);
                options.User = user.Length == 0 ? null : user;
                options.Password = Uri.UnescapeDataString(userInfo[(colon + 1)..]);
            }
        }
        foreach (var host in authority.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            options.EndPoints.Add(ParseHost(host, url));
        }
        if (options.EndPoints.Count == 0)
        {
            throw new FormatException($"'{Redact(url)}' names no host");
        }
        if (path.Length > 0)
        {
            if (!int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out var db))
            {
                throw new FormatException($"'{path}' in '{Redact(url)}' is not a database number");
            }
            options.DefaultDatabase = db;
        }
        if (tls && options.EndPoints[0] is DnsEndPoint first)
        {
            // The certificate is checked against the name written in the URL, as Node's tls does.
            options.SslHost = first.Host;
        }
        return options;
    }

    private static EndPoint ParseHost(string host, string url)
    {
        string name;
        var port = DefaultPort;
        if (host.StartsWith('['))
        {
            var close = host.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw new FormatException($"'{host}' in '{Redact(url)}' is not a host");
            }
            name = host[1..close];
            if (close + 1 < host.Length && (host[close + 1] != ':' || !int.TryParse(host[(close + 2)..], NumberStyles.None, CultureInfo.InvariantCulture, out port)))
            {
                throw new FormatException($"'{host}' in '{Redact(url)}' is not host:port");
            }
        }
        else
        {
            var colon = host.LastIndexOf(':');
            name = colon < 0 ? host : host[..colon];
            if (colon >= 0 && !int.TryParse(host[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port))
            {
                throw new FormatException($"'{host}' in '{Redact(url)}' is not host:port");
            }
        }
        if (name.Length == 0 || port is <= 0 or > 65535)
        {
            throw new FormatException($"'{host}' in '{Redact(url)}' is not host:port");
        }
        return IPAddress.TryParse(name, out var ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(name, port);
    }

    /// <summary>The URL without its password, for error messages.</summary>
    private static string Redact(string url)
    {
        var at = url.LastIndexOf('@');
        var scheme = url.IndexOf("://", StringComparison.Ordinal) + 3;
        return at > scheme ? url[..scheme] + "***" + url[at..] : url;
    }
}

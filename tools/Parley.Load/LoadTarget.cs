using System.Globalization;
using System.Net;
using System.Text;

namespace Parley.Load;

/// <summary>Where and how clients connect: the server, its Engine.IO path, the namespace, the transport, the login.</summary>
internal sealed class LoadTarget : IDisposable
{
    /// <param name="url">The server's base URL, e.g. <c>http://127.0.0.1:5000</c>.</param>
    /// <param name="path">The Engine.IO path (<c>/socket.io/</c>).</param>
    /// <param name="nsp">The Socket.IO namespace (<c>/</c>).</param>
    /// <param name="polling">HTTP long-polling instead of WebSocket.</param>
    /// <param name="loginUrl">When set, each client POSTs <paramref name="loginBody"/> there first and keeps the cookies.</param>
    /// <param name="loginBody">JSON body of the login; <c>{i}</c> is replaced by the client's number.</param>
    public LoadTarget(Uri url, string path = "/socket.io/", string nsp = "/", bool polling = false, Uri? loginUrl = null,
        string loginBody = """{"name":"load{i}"}""")
    {
        Url = url;
        Path = "/" + path.Trim('/') + "/";
        Namespace = nsp.StartsWith('/') ? nsp : "/" + nsp;
        Polling = polling;
        LoginUrl = loginUrl;
        LoginBody = loginBody;
        var scheme = url.Scheme == Uri.UriSchemeHttps ? "wss" : "ws";
        WebSocketUri = new Uri($"{scheme}://{url.Authority}{Path}?EIO=4&transport=websocket");
        PollingUri = $"{url.Scheme}://{url.Authority}{Path}?EIO=4&transport=polling";
        // Cookies are set by hand per client (a client is one user), so the handler keeps none; polling holds one
        // request per client open, so the pool is not bounded per server.
        Http = new HttpClient(new SocketsHttpHandler
        {
            UseCookies = false,
            AllowAutoRedirect = false,
            MaxConnectionsPerServer = int.MaxValue,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            ConnectTimeout = TimeSpan.FromSeconds(30),
        })
        {
            Timeout = TimeSpan.FromSeconds(60),
        };
        ConnectPacket = Namespace == "/" ? "40" : "40" + Namespace + ",";
    }

    public Uri Url { get; }

    public string Path { get; }

    public string Namespace { get; }

    public bool Polling { get; }

    public Uri? LoginUrl { get; }

    public string LoginBody { get; }

    public Uri WebSocketUri { get; }

    public string PollingUri { get; }

    public HttpClient Http { get; }

    /// <summary>The Socket.IO CONNECT packet for the namespace (no auth payload).</summary>
    public string ConnectPacket { get; }

    /// <summary>Connect timeout for one client's whole handshake.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Logs client <paramref name="index"/> in; returns the <c>Cookie</c> header to send, or null without a login step.</summary>
    public async Task<string?> LoginAsync(int index, CancellationToken ct)
    {
        if (LoginUrl is null)
        {
            return null;
        }
        var body = LoginBody.Replace("{i}", index.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Http.PostAsync(LoginUrl, content, ct);
        if ((int)response.StatusCode >= 400)
        {
            throw new LoadException($"login answered {(int)response.StatusCode}");
        }
        return CookieHeader(response);
    }

    /// <summary>The <c>name=value</c> pairs of every Set-Cookie, joined as a Cookie header.</summary>
    internal static string? CookieHeader(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Set-Cookie", out var values))
        {
            return null;
        }
        var pairs = values.Select(v => v.Split(';', 2)[0].Trim()).Where(v => v.Contains('=', StringComparison.Ordinal));
        var header = string.Join("; ", pairs);
        return header.Length == 0 ? null : header;
    }

    public void Dispose() => Http.Dispose();
}

/// <summary>A client-side failure the tool counts as an error (the message is the error's kind in the report).</summary>
internal sealed class LoadException : Exception
{
    public LoadException(string message) : base(message)
    {
    }

    public LoadException()
    {
    }

    public LoadException(string message, Exception inner) : base(message, inner)
    {
    }
}

/// <summary>Counts of errors by kind, for the final table.</summary>
internal sealed class ErrorCounts
{
    private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);

    public long Total
    {
        get
        {
            lock (_counts)
            {
                return _counts.Values.Sum();
            }
        }
    }

    public void Add(Exception ex)
    {
        var kind = ex switch
        {
            LoadException le => le.Message,
            OperationCanceledException or TimeoutException => "timeout",
            HttpRequestException he => "http: " + (he.HttpRequestError.ToString()),
            System.Net.WebSockets.WebSocketException we => "websocket: " + we.WebSocketErrorCode,
            _ => ex.GetType().Name,
        };
        Add(kind);
    }

    public void Add(string kind)
    {
        lock (_counts)
        {
            _counts[kind] = _counts.GetValueOrDefault(kind) + 1;
        }
    }

    public Dictionary<string, long> Snapshot()
    {
        lock (_counts)
        {
            return new Dictionary<string, long>(_counts, StringComparer.Ordinal);
        }
    }
}

internal static class HttpStatus
{
    public static bool IsOk(HttpStatusCode code) => (int)code is >= 200 and < 300;
}

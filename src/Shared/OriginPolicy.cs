namespace Parley.Internal;

/// <summary>
/// Which <c>Origin</c> may open a handshake that a cookie authenticates: the request's own origin (scheme, host and
/// port, default ports made explicit) and the configured ones. This is what stops cross-site WebSocket hijacking:
/// browsers attach cookies to a WebSocket opened by any site, and the WebSocket handshake has no CORS check.
/// Shared source, linked into Parley (<c>io.UseAuthentication()</c>) and Parley.Sessions (<c>io.UseSessions()</c>).
/// </summary>
/// <remarks>
/// A handshake without <c>Origin</c> passes. Browsers send it on every WebSocket handshake and on every cross-origin
/// request, so a missing one means a same-origin polling GET (which browsers send without it) or a client that is
/// not a browser, which could put any Origin it liked: RFC 6455 §10.2 describes the header as protection against
/// scripts in browsers, not against other clients. A present one is checked against the allowed list, as OWASP ASVS
/// 4.4.2 asks of WebSocket handshakes. <c>null</c> (sandboxed frames, <c>file:</c> pages, some redirects) is never
/// allowed.
/// </remarks>
internal sealed class OriginPolicy
{
    private readonly Origin[] _allowed;

    /// <summary>Parses the allow-list; throws <see cref="ArgumentException"/> naming an entry that is not an origin.</summary>
    public OriginPolicy(IEnumerable<string> allowedOrigins, string optionName)
    {
        var allowed = new List<Origin>();
        foreach (var entry in allowedOrigins)
        {
            if (!TryParse(entry, out var origin))
            {
                throw new ArgumentException($"{optionName}: '{entry}' is not an origin (scheme://host[:port] with http or https).", optionName);
            }
            allowed.Add(origin);
        }
        _allowed = [.. allowed];
    }

    /// <summary>Whether a handshake with these headers may use a cookie for authentication.</summary>
    public bool IsAllowed(SocketHandshake handshake)
    {
        var header = handshake.GetHeader("origin");
        if (header is null)
        {
            return true;
        }
        if (!TryParse(header, out var origin))
        {
            return false; // "null", or anything a browser would not send
        }
        foreach (var allowed in _allowed)
        {
            if (allowed == origin)
            {
                return true;
            }
        }
        // The request's own origin: the scheme it arrived with (forwarded-headers middleware may have set it) and Host.
        var host = handshake.GetHeader("host");
        return host is not null &&
            TryParse((handshake.Secure ? "https://" : "http://") + host, out var own) &&
            own == origin;
    }

    // An origin as browsers serialise it: http or https, a host, an optional port, nothing else.
    internal static bool TryParse(string? value, out Origin origin)
    {
        origin = default;
        if (string.IsNullOrEmpty(value) ||
            !Uri.TryCreate(value.EndsWith('/') ? value[..^1] : value, UriKind.Absolute, out var uri) ||
            (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) ||
            uri.UserInfo.Length != 0 || uri.AbsolutePath != "/" || uri.Query.Length != 0 || uri.Fragment.Length != 0 ||
            uri.Host.Length == 0)
        {
            return false;
        }
        // Uri lower-cases scheme and host and fills in the default port, so "http://A.example" == "http://a.example:80".
        origin = new Origin(uri.Scheme, uri.IdnHost, uri.Port);
        return true;
    }

    internal readonly record struct Origin(string Scheme, string Host, int Port);
}

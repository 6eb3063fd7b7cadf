using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Parley.Sessions;

/// <summary>
/// express-session's options under .NET names (expressjs/session README "Options"). Defaults follow the values
/// express-session recommends setting explicitly (<c>resave: false</c>, <c>saveUninitialized: false</c>); its
/// implicit, deprecated defaults were <c>true</c> for both.
/// </summary>
public sealed class ParleySessionOptions
{
    /// <summary>
    /// The secrets (<c>secret</c>). The first signs new cookies; every one verifies, in order, so that a secret can be
    /// rotated out without logging users off. When none is configured a random development secret is generated at
    /// start-up and a warning is logged: cookies then stop verifying when the process restarts.
    /// </summary>
    public IList<string> Secrets { get; } = new List<string>();

    /// <summary>The cookie name (<c>name</c>); <c>connect.sid</c> by default.</summary>
    public string CookieName { get; set; } = "connect.sid";

    /// <summary>The cookie's max age (<c>cookie.maxAge</c>); null (the default) makes a browser-session cookie.</summary>
    public TimeSpan? MaxAge { get; set; }

    /// <summary><c>cookie.httpOnly</c>; true by default.</summary>
    public bool HttpOnly { get; set; } = true;

    /// <summary>
    /// <c>cookie.secure</c>: <see cref="CookieSecurePolicy.None"/> leaves it unset (false), <see cref="CookieSecurePolicy.Always"/>
    /// is <c>true</c> (the cookie is then only sent on secure requests), <see cref="CookieSecurePolicy.SameAsRequest"/>
    /// is <c>'auto'</c>.
    /// </summary>
    public CookieSecurePolicy Secure { get; set; } = CookieSecurePolicy.None;

    /// <summary><c>cookie.sameSite</c>; null (the default) leaves the attribute out.</summary>
    public SameSiteMode? SameSite { get; set; }

    /// <summary><c>cookie.domain</c>; null by default.</summary>
    public string? Domain { get; set; }

    /// <summary><c>cookie.path</c>; <c>/</c> by default. Requests outside the path get no session.</summary>
    public string Path { get; set; } = "/";

    /// <summary><c>resave</c>: save an unchanged loaded session on every request. False by default.</summary>
    public bool Resave { get; set; }

    /// <summary><c>saveUninitialized</c>: save (and send the cookie of) a new session that was not changed. False by default.</summary>
    public bool SaveUninitialized { get; set; }

    /// <summary><c>rolling</c>: send the cookie on every response, so that its expiry moves forward. False by default.</summary>
    public bool Rolling { get; set; }

    /// <summary><c>unset</c>: what an unset session (<see cref="HttpContextSessionExtensions.UnsetSession"/>) does to the store.</summary>
    public SessionUnset Unset { get; set; } = SessionUnset.Keep;

    /// <summary>
    /// <c>proxy</c>: how a request is judged secure for <c>Secure</c> cookies. Null (the default) uses
    /// <see cref="HttpRequest.IsHttps"/> (which the forwarded-headers middleware may have set); true also trusts
    /// the first value of <c>X-Forwarded-Proto</c>; false only trusts the connection's own TLS.
    /// </summary>
    public bool? Proxy { get; set; }

    /// <summary>
    /// <c>genid</c>: makes a new session id. The default is 24 bytes from a CSPRNG as URL-safe base64 without padding
    /// (32 characters), what uid-safe's <c>uid(24)</c> gives express-session. The context is null outside HTTP.
    /// </summary>
    public Func<HttpContext?, string> Genid { get; set; } = static _ => GenerateSessionId();

    /// <summary>The JSON options used by the reflection-based <see cref="ParleySession.Get{T}(string)"/>/<c>Set</c>; web defaults (camelCase).</summary>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);

    /// <summary>uid-safe's <c>uid(24)</c>: 24 random bytes, base64url without padding.</summary>
    public static string GenerateSessionId()
    {
        Span<byte> bytes = stackalloc byte[24];
        RandomNumberGenerator.Fill(bytes);
        return System.Buffers.Text.Base64Url.EncodeToString(bytes);
    }
}

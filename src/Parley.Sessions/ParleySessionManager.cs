using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Protocol.SocketIO;

namespace Parley.Sessions;

/// <summary>
/// Signs and verifies session cookies, loads and creates sessions, and tells listeners when a session ends.
/// The middleware uses it for HTTP; the Socket.IO handshake uses it directly:
/// <list type="bullet">
/// <item><see cref="LoadFromCookieHeaderAsync"/> — the handshake request's <c>Cookie</c> header → the session, or null.</item>
/// <item><see cref="LoadFromSignedValueAsync"/> — a signed value from the CONNECT <c>auth</c> payload → the session, or null.</item>
/// <item><see cref="ParleySession.GetSignedValue"/> / <see cref="Sign"/> — mint that value for a client without cookies.</item>
/// <item><see cref="SessionDestroyed"/> — raised with the session's key (never its id) when a session ends here.</item>
/// </list>
/// A singleton, registered by <see cref="ParleySessionsServiceCollectionExtensions.AddParleySessions"/>.
/// </summary>
public sealed partial class ParleySessionManager
{
    private readonly byte[][] _keys;
    private readonly ILogger _logger;

    /// <summary>Creates the manager; generates a development secret (and warns) when none is configured.</summary>
    public ParleySessionManager(IOptions<ParleySessionOptions> options, SessionStore store, TimeProvider timeProvider, ILogger<ParleySessionManager> logger)
        : this(options, store, timeProvider, logger, metrics: null)
    {
    }

    /// <summary>Creates the manager (DI's choice after <c>AddParleySessions</c>); store calls are measured in <paramref name="metrics"/>.</summary>
    public ParleySessionManager(IOptions<ParleySessionOptions> options, SessionStore store, TimeProvider timeProvider, ILogger<ParleySessionManager> logger, Diagnostics.SessionMetrics? metrics)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        Options = options.Value;
        Store = store;
        MeteredStore = new Diagnostics.MeteredSessionStore(store, metrics ?? Diagnostics.SessionMetrics.Shared);
        Time = timeProvider;
        _logger = logger;
        if (Options.Secrets.Count == 0)
        {
            // express-session refuses to run without a secret; a development machine should not need one.
            Log.GeneratedDevelopmentSecret(_logger);
            _keys = [RandomNumberGenerator.GetBytes(32)];
        }
        else
        {
            _keys = Options.Secrets.Select(Encoding.UTF8.GetBytes).ToArray();
        }
    }

    /// <summary>The options in force.</summary>
    public ParleySessionOptions Options { get; }

    /// <summary>The store sessions live in.</summary>
    public SessionStore Store { get; }

    /// <summary><see cref="Store"/> with every call measured: what the session layer calls.</summary>
    internal SessionStore MeteredStore { get; }

    /// <summary>The clock.</summary>
    public TimeProvider Time { get; }

    /// <summary>
    /// Raised when a session ends on this node (destroyed, regenerated, or unset with <see cref="SessionUnset.Destroy"/>).
    /// Handlers run synchronously on the ending request and must not block; an exception they throw is logged and
    /// swallowed. Only the session's key is given: compare it with <see cref="ParleySession.Key"/>.
    /// </summary>
    public event EventHandler<SessionDestroyedEventArgs>? SessionDestroyed;

    /// <summary>A non-reversible key for a session id: base64url (no padding) of SHA-256 of its UTF-8 bytes.</summary>
    public static string ComputeSessionKey(string sessionId)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        return System.Buffers.Text.Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(sessionId)));
    }

    /// <summary><c>"s:" + sign(sessionId, secrets[0])</c>, the cookie value before URL-encoding (index.js <c>setcookie</c>).</summary>
    public string Sign(string sessionId)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        return "s:" + CookieSignature.Sign(sessionId, _keys[0]);
    }

    /// <summary>
    /// Verifies a signed session value, <c>s:&lt;id&gt;.&lt;signature&gt;</c>, URL-encoded or not, against every secret in
    /// order (index.js <c>unsigncookie</c>). A value that contains <c>%</c> is tried decoded (as cookie.parse decodes it)
    /// and then as it is, so that both the cookie's value and <see cref="ParleySession.GetSignedValue"/>'s verify even
    /// when a custom <see cref="ParleySessionOptions.Genid"/> puts <c>%</c> in ids. Never throws on bad input.
    /// </summary>
    public bool TryUnsign(string? signedValue, [NotNullWhen(true)] out string? sessionId)
    {
        sessionId = null;
        if (string.IsNullOrEmpty(signedValue))
        {
            return false;
        }
        if (!signedValue.Contains('%', StringComparison.Ordinal))
        {
            if (Verify(signedValue, out sessionId, out var failure))
            {
                return true;
            }
            LogFailure(failure);
            return false;
        }
        var decodable = CookieCodec.TryDecodeUriComponent(signedValue, out var decoded);
        var decodedFailure = SignatureFailure.Unsigned;
        if (decodable && Verify(decoded, out sessionId, out decodedFailure))
        {
            return true;
        }
        // Not encoded after all: GetSignedValue mints the raw value, whose id may contain '%' (and cookie.parse's
        // tryDecode also keeps a value it cannot decode as it is). Both readings must carry a valid signature.
        if (Verify(signedValue, out sessionId, out _))
        {
            return true;
        }
        if (decodable)
        {
            // The decoded reading is the one cookie.parse hands express-session: its failure is the one logged.
            LogFailure(decodedFailure);
        }
        else
        {
            Log.BadPercentEncoding(_logger);
        }
        return false;
    }

    /// <summary>
    /// The verified session id in a raw <c>Cookie</c> header (index.js <c>getcookie</c>): the first cookie named
    /// <see cref="ParleySessionOptions.CookieName"/>, which must be <c>s:</c>-signed by one of the secrets; null
    /// otherwise, with a log line. Never throws on bad input.
    /// </summary>
    public string? ReadSessionId(string? cookieHeader)
    {
        if (string.IsNullOrEmpty(cookieHeader))
        {
            return null;
        }
        var raw = CookieCodec.GetFirstRaw(cookieHeader, Options.CookieName);
        if (string.IsNullOrEmpty(raw))
        {
            return null;
        }
        // cookie.parse leaves a value it cannot decode as it is (tryDecode); such a value is never validly signed,
        // so TryUnsign's refusal gives express-session's outcome: a new session.
        return TryUnsign(raw, out var id) ? id : null;
    }

    /// <summary>Loads the session with this id, or null when the store has none (or only an unreadable record).</summary>
    public async Task<ParleySession?> LoadAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        var loaded = await LoadRecordAsync(sessionId, cancellationToken).ConfigureAwait(false);
        return loaded is null ? null : new ParleySession(this, null, sessionId, loaded.Cookie, loaded.Data, isNew: false);
    }

    /// <summary>
    /// For the Socket.IO handshake: verifies a signed value (see <see cref="TryUnsign"/>) and loads its session;
    /// null when the value is not validly signed or the store has no such session. Store failures throw.
    /// </summary>
    public Task<ParleySession?> LoadFromSignedValueAsync(string? signedValue, CancellationToken cancellationToken = default) =>
        TryUnsign(signedValue, out var id) ? LoadAsync(id, cancellationToken) : Task.FromResult<ParleySession?>(null);

    /// <summary>
    /// For the Socket.IO handshake: reads the session cookie of a raw <c>Cookie</c> header (see <see cref="ReadSessionId"/>)
    /// and loads its session; null when there is no validly signed cookie or no such session. Store failures throw.
    /// </summary>
    public Task<ParleySession?> LoadFromCookieHeaderAsync(string? cookieHeader, CancellationToken cancellationToken = default) =>
        ReadSessionId(cookieHeader) is { } id ? LoadAsync(id, cancellationToken) : Task.FromResult<ParleySession?>(null);

    /// <summary>A new, unsaved session with a fresh id and cookie (Store.prototype.generate).</summary>
    public ParleySession Create(HttpContext? context = null) =>
        new(this, context, NewId(context), NewCookie(context), new JsonObject(), isNew: true);

    /// <summary>The <c>Set-Cookie</c> header value that carries this session (index.js <c>setcookie</c>).</summary>
    public string CreateSetCookieHeader(ParleySession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return CookieCodec.SerializeSetCookie(Options.CookieName, Sign(session.Id), session.Cookie);
    }

    internal string NewId(HttpContext? context)
    {
        var id = Options.Genid(context);
        if (string.IsNullOrEmpty(id))
        {
            throw new InvalidOperationException("ParleySessionOptions.Genid returned an empty session id.");
        }
        return id;
    }

    // Store.prototype.generate: `new Cookie(cookieOptions)`, with secure 'auto' resolved for this request.
    internal SessionCookie NewCookie(HttpContext? context)
    {
        var o = Options;
        var cookie = new SessionCookie(Time)
        {
            HttpOnly = o.HttpOnly,
            Path = o.Path,
            Domain = o.Domain,
            Secure = o.Secure switch
            {
                Microsoft.AspNetCore.Http.CookieSecurePolicy.Always => true,
                Microsoft.AspNetCore.Http.CookieSecurePolicy.SameAsRequest => context is not null && IsSecure(context),
                _ => null,
            },
            SameSite = o.SameSite switch
            {
                SameSiteMode.Strict => "strict",
                SameSiteMode.Lax => "lax",
                SameSiteMode.None => "none",
                _ => null,
            },
        };
        if (o.MaxAge is { } maxAge)
        {
            cookie.MaxAge = maxAge;
        }
        return cookie;
    }

    // index.js issecure(): TLS on the connection, else (proxy: true) X-Forwarded-Proto, else (unset) req.secure.
    internal bool IsSecure(HttpContext context)
    {
        if (context.Features.Get<ITlsConnectionFeature>() is not null)
        {
            return true;
        }
        switch (Options.Proxy)
        {
            case false:
                return false;
            case null:
                return context.Request.IsHttps;
            default:
                var header = context.Request.Headers["X-Forwarded-Proto"].ToString();
                var comma = header.IndexOf(',', StringComparison.Ordinal);
                var proto = (comma >= 0 ? header[..comma] : header).Trim();
                return proto.Equals("https", StringComparison.OrdinalIgnoreCase);
        }
    }

    internal async Task<LoadedRecord?> LoadRecordAsync(string sessionId, CancellationToken cancellationToken)
    {
        var json = await MeteredStore.GetAsync(sessionId, cancellationToken).ConfigureAwait(false);
        if (json is null)
        {
            return null;
        }
        if (TryParseRecord(json, out var cookie, out var data))
        {
            return new LoadedRecord(cookie, data);
        }
        // connect-pg-simple destroys a record whose JSON does not parse; we do so for any store, and start afresh.
        Log.InvalidRecord(_logger);
        await MeteredStore.DestroyAsync(sessionId, cancellationToken).ConfigureAwait(false);
        return null;
    }

    internal void RaiseDestroyed(string sessionId, SessionEndReason reason)
    {
        var handler = SessionDestroyed;
        if (handler is null)
        {
            return;
        }
        var args = new SessionDestroyedEventArgs(ComputeSessionKey(sessionId), reason);
        foreach (var d in handler.GetInvocationList())
        {
            try
            {
                ((EventHandler<SessionDestroyedEventArgs>)d)(this, args);
            }
            // A listener's bug must not fail the logout that raised the event.
            catch (Exception ex)
            {
                Log.DestroyedHandlerFailed(_logger, ex);
            }
        }
    }

    private bool TryParseRecord(string json, [NotNullWhen(true)] out SessionCookie? cookie, [NotNullWhen(true)] out JsonObject? data)
    {
        cookie = null;
        data = null;
        JsonNode? node;
        try
        {
            // A store shared with Node may hold strings JSON.stringify wrote with lone surrogates (\ud800): made
            // well-formed (U+FFFD) here, so that no session.Get<string> can throw on them.
            node = JsonNode.Parse(SocketJson.ReplaceLoneSurrogates(json), documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException)
        {
            return false;
        }
        // express-session's createSession dereferences sess.cookie: a record without a cookie object is unusable.
        if (node is not JsonObject o || o["cookie"] is not JsonObject c)
        {
            return false;
        }
        cookie = SessionCookie.Read(c, Time);
        o.Remove("cookie");
        data = o;
        return true;
    }

    // Why a value did not verify: Verify reports it so that the caller logs once, without running the HMAC over
    // every secret again to find out.
    private enum SignatureFailure
    {
        Unsigned,
        InvalidSignature,
    }

    private bool Verify(string value, [NotNullWhen(true)] out string? sessionId, out SignatureFailure failure)
    {
        sessionId = null;
        if (!value.StartsWith("s:", StringComparison.Ordinal))
        {
            failure = SignatureFailure.Unsigned;
            return false;
        }
        var signed = value[2..];
        foreach (var key in _keys)
        {
            if (CookieSignature.TryUnsign(signed, key, out sessionId))
            {
                failure = default;
                return true;
            }
        }
        failure = SignatureFailure.InvalidSignature;
        return false;
    }

    private void LogFailure(SignatureFailure failure)
    {
        if (failure == SignatureFailure.Unsigned)
        {
            Log.UnsignedCookie(_logger);
        }
        else
        {
            Log.InvalidSignature(_logger);
        }
    }

    internal sealed record LoadedRecord(SessionCookie Cookie, JsonObject Data);

    private static partial class Log
    {
        [LoggerMessage(4000, LogLevel.Warning, "No session secret is configured: generated a random development secret. Session cookies will not survive a restart and are not shared with other nodes; configure ParleySessionOptions.Secrets.")]
        public static partial void GeneratedDevelopmentSecret(ILogger logger);

        [LoggerMessage(4001, LogLevel.Warning, "Session cookie signature invalid: a new session is used.")]
        public static partial void InvalidSignature(ILogger logger);

        [LoggerMessage(4002, LogLevel.Debug, "Session cookie unsigned: a new session is used.")]
        public static partial void UnsignedCookie(ILogger logger);

        [LoggerMessage(4003, LogLevel.Warning, "Session cookie has bad percent-encoding: a new session is used.")]
        public static partial void BadPercentEncoding(ILogger logger);

        [LoggerMessage(4004, LogLevel.Warning, "Stored session record is not a valid session JSON object: it was destroyed and a new session is used.")]
        public static partial void InvalidRecord(ILogger logger);

        [LoggerMessage(4008, LogLevel.Error, "A SessionDestroyed handler threw.")]
        public static partial void DestroyedHandlerFailed(ILogger logger, Exception exception);
    }
}

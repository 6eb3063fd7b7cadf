namespace Parley.Sessions.SocketIO;

/// <summary>How a namespace takes its sockets' sessions from the handshake (<c>io.UseSessions(o => …)</c>).</summary>
public sealed class SocketSessionOptions
{
    /// <summary>
    /// Refuse a connection without a valid session with <c>connect_error</c> <see cref="RefusalMessage"/> (true).
    /// When false, such sockets connect with no session.
    /// </summary>
    public bool Required { get; set; } = true;

    /// <summary>The <c>connect_error</c> message of a refusal (<c>unauthorized</c>).</summary>
    public string RefusalMessage { get; set; } = "unauthorized";

    /// <summary>
    /// The <c>connect_error</c> message when the store fails or is not ready (<c>session store unavailable</c>). The
    /// store's own error, which may name hosts and ports, goes to the log only. A failing store refuses even when
    /// <see cref="Required"/> is false (express-session passes the error to <c>next(err)</c>); a store that is not
    /// ready refuses only when the session is required (express-session proceeds without one).
    /// </summary>
    public string StoreUnavailableMessage { get; set; } = "session store unavailable";

    /// <summary>
    /// An extra check of a loaded session (e.g. that the user logged in: <c>s =&gt; s.ContainsKey("name")</c>);
    /// failing it is treated as having no session.
    /// </summary>
    public Func<ParleySession, bool>? Validate { get; set; }

    /// <summary>
    /// Origins allowed for cookie-authenticated handshakes besides the request's own (<c>scheme://host[:port]</c>;
    /// compared by scheme, host and port, with default ports made explicit; checked when <c>UseSessions</c> runs).
    /// The request's own origin is its scheme (<c>https</c> when the request was secure, which needs the
    /// forwarded-headers middleware behind a TLS-terminating proxy) with its <c>Host</c>. A handshake from any other
    /// origin is refused, on polling and WebSocket alike: a browser attaches cookies to a cross-site WebSocket, so
    /// this is what stops cross-site WebSocket hijacking. <c>Origin: null</c> is refused; a handshake without Origin
    /// (a same-origin polling request, a client that is not a browser) passes. Sessions passed in the CONNECT auth
    /// payload are not subject to it (a page on another origin cannot read the signed value).
    /// </summary>
    public IList<string> AllowedOrigins { get; } = [];

    /// <summary>The CONNECT auth field that may carry the signed session value (<c>session</c>).</summary>
    public string AuthField { get; set; } = "session";
}

using Microsoft.AspNetCore.Http;

namespace Parley.EngineIO;

/// <summary>
/// Options of the Engine.IO server, with engine.io 6.x's names and defaults
/// (https://socket.io/docs/v4/server-options/#engineio-options).
/// </summary>
public sealed class EngineOptions
{
    /// <summary>How often the server pings each client (engine.io <c>pingInterval</c>, 25 s).</summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>How long a client has to answer a ping before it is closed (engine.io <c>pingTimeout</c>, 20 s).</summary>
    public TimeSpan PingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long an upgrade to WebSocket may take before the new transport is dropped (<c>upgradeTimeout</c>, 10 s).</summary>
    public TimeSpan UpgradeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The largest message or polling POST body accepted, in bytes (<c>maxHttpBufferSize</c>, 1 MB); sent to clients
    /// as <c>maxPayload</c>. A larger POST gets 413, a larger WebSocket message closes it with 1009.
    /// </summary>
    public long MaxHttpBufferSize { get; set; } = 1_000_000;

    /// <summary>The transports clients may use (<c>transports</c>: polling and websocket).</summary>
    public IList<EngineTransport> Transports { get; set; } = [EngineTransport.Polling, EngineTransport.WebSocket];

    /// <summary>
    /// Accept Engine.IO v3 clients (socket.io-client 2.x, <c>EIO=3</c>) next to v4 ones (<c>allowEIO3</c>, off by
    /// default as in engine.io 6). Off, they are refused with <c>{"code":5,"message":"Unsupported protocol version"}</c>.
    /// JSONP polling (<c>j</c>) is never served: such requests get <c>{"code":3,"message":"Bad request"}</c>.
    /// </summary>
    public bool AllowEIO3 { get; set; }

    /// <summary>Whether a polling session may upgrade to WebSocket (<c>allowUpgrades</c>, true).</summary>
    public bool AllowUpgrades { get; set; } = true;

    /// <summary>
    /// Decides whether a handshake (a request without a session id) is accepted, on every transport
    /// (<c>allowRequest</c>). A refusal answers 403 <c>{"code":4,"message":…}</c>. Null accepts everything.
    /// </summary>
    public Func<HttpContext, ValueTask<RequestVerdict>>? AllowRequest { get; set; }

    /// <summary>CORS for the HTTP transport (<c>cors</c>); off (null) by default, as in engine.io.</summary>
    public EngineCorsOptions? Cors { get; set; }

    /// <summary>
    /// The cookie holding the session id, for load balancers that route by cookie (<c>cookie</c>); off (null) by
    /// default. <see cref="EngineCookieOptions"/> defaults to engine.io's <c>io</c>, path <c>/</c>, HttpOnly, SameSite=Lax.
    /// </summary>
    public EngineCookieOptions? Cookie { get; set; }

    /// <summary>
    /// Compress polling responses with gzip or deflate when the client accepts them (<c>httpCompression</c>). Off by
    /// default, as per-message deflate is: compression costs CPU on every response, and whether it pays depends on the
    /// messages (engine.io turns it on by default).
    /// </summary>
    public bool HttpCompression { get; set; }

    /// <summary>Polling responses shorter than this many bytes go uncompressed (<c>httpCompression.threshold</c>, 1024).</summary>
    public int HttpCompressionThreshold { get; set; } = 1024;

    /// <summary>
    /// Negotiate WebSocket per-message deflate (<c>perMessageDeflate</c>) with clients that offer it; off by default,
    /// as in engine.io. Each such connection then holds a deflate context (docs/compression.md: its memory).
    /// </summary>
    public bool PerMessageDeflate { get; set; }

    /// <summary>WebSocket messages shorter than this many bytes go uncompressed (<c>perMessageDeflate.threshold</c>, 1024).</summary>
    public int PerMessageDeflateThreshold { get; set; } = 1024;

    /// <summary>
    /// The server's deflate window, as a power of two (9–15, <c>server_max_window_bits</c>; 15 by default as in ws):
    /// a smaller window takes less memory per connection and compresses less.
    /// </summary>
    public int PerMessageDeflateWindowBits { get; set; } = 15;

    /// <summary>
    /// Keep the deflate context between messages (<c>server_no_context_takeover</c> when false; true by default as in
    /// ws). Without it each message is compressed on its own and an idle connection holds no deflate context.
    /// </summary>
    public bool PerMessageDeflateContextTakeover { get; set; } = true;

    /// <summary>
    /// Bytes a connection may have queued or being written (10 MB) before it is closed as too slow. Not in
    /// engine.io, which buffers without bound; a bound keeps one stuck client from taking the server's memory.
    /// </summary>
    public long MaxOutgoingBufferSize { get; set; } = 10_000_000;

    /// <summary>
    /// The most WebSocket fragments one message may arrive in before the connection is closed with 1008 (ws
    /// <c>maxFragments</c>, CVE-2026-48779: a flood of tiny fragments).
    /// </summary>
    public int MaxWebSocketFragments { get; set; } = 131_072;
}

/// <summary>An Engine.IO transport.</summary>
public enum EngineTransport
{
    /// <summary>HTTP long-polling.</summary>
    Polling,

    /// <summary>WebSocket.</summary>
    WebSocket,
}

/// <summary>The answer of <see cref="EngineOptions.AllowRequest"/>.</summary>
public readonly record struct RequestVerdict(bool Allowed, string? Message)
{
    /// <summary>Accept the request.</summary>
    public static RequestVerdict Allow => new(true, null);

    /// <summary>Refuse the request with 403 and <paramref name="message"/> (default <c>Forbidden</c>).</summary>
    public static RequestVerdict Deny(string? message = null) => new(false, message);
}

/// <summary>CORS settings of the polling transport (a subset of the npm <c>cors</c> module's options).</summary>
public sealed class EngineCorsOptions
{
    /// <summary>Allowed origins; <c>*</c> allows any. Empty allows none.</summary>
    public IList<string> Origins { get; set; } = ["*"];

    /// <summary>Whether credentials (cookies) are allowed; the request's origin is echoed instead of <c>*</c>.</summary>
    public bool AllowCredentials { get; set; }

    /// <summary>Allowed request headers for preflights; empty echoes the requested ones.</summary>
    public IList<string> AllowedHeaders { get; set; } = [];

    /// <summary>Allowed methods.</summary>
    public IList<string> Methods { get; set; } = ["GET", "POST"];

    /// <summary>How long a preflight may be cached; null leaves it to the browser.</summary>
    public TimeSpan? MaxAge { get; set; }
}

/// <summary>The session-id cookie (engine.io <c>cookie</c> option).</summary>
public sealed class EngineCookieOptions
{
    /// <summary>Cookie name (<c>io</c>).</summary>
    public string Name { get; set; } = "io";

    /// <summary>Cookie path (<c>/</c>).</summary>
    public string Path { get; set; } = "/";

    /// <summary>HttpOnly (true).</summary>
    public bool HttpOnly { get; set; } = true;

    /// <summary>SameSite (Lax).</summary>
    public SameSiteMode SameSite { get; set; } = SameSiteMode.Lax;

    /// <summary>Secure (false).</summary>
    public bool Secure { get; set; }
}

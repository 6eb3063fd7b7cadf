using System.Net;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Primitives;
using Parley.EngineIO;
using Parley.Internal;

namespace Parley;

/// <summary>What a socket's client sent when it connected (socket.io's <c>socket.handshake</c>).</summary>
public sealed class SocketHandshake
{
    private static readonly JsonElement s_emptyAuth = JsonDocument.Parse("{}").RootElement;

    /// <summary>Creates a handshake (for remote sockets and tests).</summary>
    [JsonConstructor]
    public SocketHandshake(IReadOnlyDictionary<string, string> headers, DateTimeOffset time, string address, bool xdomain, bool secure, long issued, string url,
        IReadOnlyDictionary<string, string> query, JsonElement auth)
    {
        Headers = headers;
        Time = time;
        Address = address;
        Xdomain = xdomain;
        Secure = secure;
        Issued = issued;
        Url = url;
        Query = query;
        Auth = auth.ValueKind == JsonValueKind.Undefined ? s_emptyAuth : auth;
    }

    internal SocketHandshake(EngineHandshake engine, JsonElement? auth)
        : this(Flatten(engine.Headers), engine.Time,
            engine.RemoteAddress?.ToString() ?? "", engine.Headers.ContainsKey("origin"), engine.IsSecure, engine.Time.ToUnixTimeMilliseconds(), engine.Url,
            Flatten(engine.Query, lowerCaseKeys: false), auth?.Clone() ?? s_emptyAuth)
    {
        User = engine.User;
        RemoteAddress = engine.RemoteAddress;
    }

    private SocketHandshake(SocketHandshake source, IReadOnlyDictionary<string, string> headers, JsonElement auth)
        : this(headers, source.Time, source.Address, source.Xdomain, source.Secure, source.Issued, source.Url, source.Query, auth)
    {
        User = source.User;
        RemoteAddress = source.RemoteAddress;
    }

    /// <summary>
    /// A copy with other <paramref name="headers"/> and/or <paramref name="auth"/> (the rest, the local-only
    /// <see cref="User"/> and <see cref="RemoteAddress"/> included, is kept); for <see cref="ParleySocket.RedactHandshake"/>.
    /// </summary>
    public SocketHandshake With(IReadOnlyDictionary<string, string>? headers = null, JsonElement? auth = null) =>
        new(this, headers ?? Headers, auth ?? Auth);

    /// <summary>Request headers of the opening request (lower-case names, as Node gives them).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>
    /// When the connection opened. socket.io's <c>handshake.time</c> is JavaScript's <c>Date.toString()</c>; that
    /// form is what JSON gets, and what the wire to Node peers and the admin UI carries.
    /// </summary>
    [JsonConverter(typeof(JavaScriptDateJsonConverter))]
    public DateTimeOffset Time { get; }

    /// <summary>The client's address.</summary>
    public string Address { get; }

    /// <summary>Whether the request was cross-origin (an <c>Origin</c> header was sent).</summary>
    public bool Xdomain { get; }

    /// <summary>Whether the connection uses TLS.</summary>
    public bool Secure { get; }

    /// <summary>When the connection opened, in Unix milliseconds.</summary>
    public long Issued { get; }

    /// <summary>The opening request's URL (path and query).</summary>
    public string Url { get; }

    /// <summary>The opening request's query parameters.</summary>
    public IReadOnlyDictionary<string, string> Query { get; }

    /// <summary>The CONNECT packet's payload (<c>auth</c> in the client's options); <c>{}</c> when none.</summary>
    public JsonElement Auth { get; }

    /// <summary>The ASP.NET Core user of the opening request (local sockets only).</summary>
    [JsonIgnore]
    public ClaimsPrincipal User { get; } = new(new ClaimsIdentity());

    /// <summary>The client's IP address (local sockets only).</summary>
    [JsonIgnore]
    public IPAddress? RemoteAddress { get; }

    /// <summary>A header by name (case-insensitive), or null.</summary>
    public string? GetHeader(string name)
    {
        if (Headers.TryGetValue(name, out var value))
        {
            return value;
        }
        foreach (var (key, v) in Headers)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return v;
            }
        }
        return null;
    }

    // Header names are lower-cased as Node gives them; query keys keep their case (Node's URLSearchParams does).
    private static Dictionary<string, string> Flatten(IReadOnlyDictionary<string, StringValues> values, bool lowerCaseKeys = true)
    {
        var result = new Dictionary<string, string>(values.Count, StringComparer.Ordinal);
        foreach (var (key, value) in values)
        {
            result[lowerCaseKeys ? key.ToLowerInvariant() : key] = value.ToString();
        }
        return result;
    }
}

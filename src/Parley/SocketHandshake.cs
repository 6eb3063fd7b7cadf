using System.Collections;
using System.Diagnostics.CodeAnalysis;
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

    // A local socket's user comes from its engine handshake, made when first read: most connections never ask.
    private readonly EngineHandshake? _engine;
    private ClaimsPrincipal? _user;

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
        : this(new StringView(engine.Headers), engine.Time,
            engine.RemoteAddress?.ToString() ?? "", engine.Headers.ContainsKey("origin"), engine.IsSecure, engine.Time.ToUnixTimeMilliseconds(), engine.Url,
            new StringView(engine.Query), auth?.Clone() ?? s_emptyAuth)
    {
        _engine = engine;
        RemoteAddress = engine.RemoteAddress;
    }

    private SocketHandshake(SocketHandshake source, IReadOnlyDictionary<string, string> headers, JsonElement auth)
        : this(headers, source.Time, source.Address, source.Xdomain, source.Secure, source.Issued, source.Url, source.Query, auth)
    {
        _engine = source._engine;
        _user = source._user;
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
    public ClaimsPrincipal User => _user ?? Interlocked.CompareExchange(ref _user, _engine?.User ?? new ClaimsPrincipal(new ClaimsIdentity()), null) ?? _user;

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

    /// <summary>
    /// The engine's headers or query seen as strings, without a copy: a socket keeps the engine handshake's arrays
    /// (header names already lower-case, as Node gives them; query keys as sent) rather than a dictionary of its own
    /// per namespace. A repeated header reads as its values joined by commas, as Node joins them.
    /// </summary>
    private sealed class StringView(IReadOnlyDictionary<string, StringValues> values) : IReadOnlyDictionary<string, string>
    {
        public string this[string key] => values[key].ToString();

        public IEnumerable<string> Keys => values.Keys;

        public IEnumerable<string> Values => values.Values.Select(v => v.ToString());

        public int Count => values.Count;

        public bool ContainsKey(string key) => values.ContainsKey(key);

        public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value)
        {
            var found = values.TryGetValue(key, out var v);
            value = found ? v.ToString() : null;
            return found;
        }

        public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
        {
            foreach (var (key, value) in values)
            {
                yield return new(key, value.ToString());
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}

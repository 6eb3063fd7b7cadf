using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Parley.Sessions;

/// <summary>
/// The <c>cookie</c> object of a session, as express-session's <c>Cookie</c> (session/cookie.js) keeps it and
/// stores it: <c>originalMaxAge</c>, <c>expires</c>, <c>secure</c>, <c>httpOnly</c>, <c>domain</c>, <c>path</c>,
/// <c>sameSite</c> (plus <c>partitioned</c>/<c>priority</c>, kept when another app wrote them).
/// </summary>
public sealed class SessionCookie
{
    private readonly TimeProvider _time;
    private DateTimeOffset? _expires;

    internal SessionCookie(TimeProvider time)
    {
        _time = time;
    }

    /// <summary>
    /// The max age the session was created with (<c>originalMaxAge</c>, milliseconds in the JSON); null for a
    /// browser-session cookie. <see cref="ParleySession.Touch"/> moves <see cref="Expires"/> to now plus this.
    /// </summary>
    public TimeSpan? OriginalMaxAge { get; set; }

    /// <summary>
    /// When the cookie expires (<c>expires</c>, ISO-8601 in the JSON); null for a browser-session cookie. Setting it
    /// also sets <see cref="OriginalMaxAge"/> to the time left (null for null), as express's <c>expires</c> setter
    /// does (session/cookie.js <c>this.originalMaxAge = this.maxAge</c>): the touch at the end of the request then
    /// keeps the chosen lifetime ("remember me") instead of going back to the configured max age.
    /// </summary>
    public DateTimeOffset? Expires
    {
        get => _expires;
        set
        {
            _expires = value is { } v ? TruncateToMilliseconds(v) : null;
            OriginalMaxAge = _expires is { } e ? e - _time.GetUtcNow() : null;
        }
    }

    /// <summary>
    /// The time left (express's <c>cookie.maxAge</c> getter). Setting it sets <see cref="Expires"/> to now plus the
    /// value and <see cref="OriginalMaxAge"/> to the value, as the express setter does.
    /// </summary>
    public TimeSpan? MaxAge
    {
        get => _expires is { } e ? e - _time.GetUtcNow() : null;
        set
        {
            _expires = value is { } v ? TruncateToMilliseconds(_time.GetUtcNow() + v) : null;
            OriginalMaxAge = value;
        }
    }

    /// <summary>
    /// session.js <c>resetMaxAge()</c>: <see cref="Expires"/> becomes now plus <see cref="OriginalMaxAge"/>, which stays
    /// as it is (going through the <see cref="Expires"/> setter would round it to the clock's milliseconds).
    /// </summary>
    internal void ResetMaxAge() =>
        _expires = OriginalMaxAge is { } max ? TruncateToMilliseconds(_time.GetUtcNow() + max) : null;

    /// <summary><c>httpOnly</c>; true by default.</summary>
    public bool HttpOnly { get; set; } = true;

    /// <summary><c>path</c>; <c>/</c> by default.</summary>
    public string? Path { get; set; } = "/";

    /// <summary><c>domain</c>, written only when set.</summary>
    public string? Domain { get; set; }

    /// <summary><c>secure</c>, written only when set.</summary>
    public bool? Secure { get; set; }

    /// <summary>
    /// <c>sameSite</c> as stored: <c>"strict"</c>, <c>"lax"</c>, <c>"none"</c>, or null when not set (a stored
    /// <c>true</c> reads as <c>"strict"</c>, as jshttp/cookie treats it).
    /// </summary>
    public string? SameSite
    {
        get => SameSiteNode switch
        {
            null => null,
            JsonValue v when v.TryGetValue<bool>(out var b) => b ? "strict" : null,
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            _ => null,
        };
        set => SameSiteNode = value is null ? null : JsonValue.Create(value);
    }

    /// <summary><c>partitioned</c>, written only when set.</summary>
    public bool? Partitioned { get; set; }

    /// <summary><c>priority</c>, written only when set.</summary>
    public string? Priority { get; set; }

    // Kept as the JSON node so that `true` written by an Express app round-trips unchanged.
    internal JsonNode? SameSiteNode { get; set; }

    internal string? SameSiteAttribute => SameSite?.ToLowerInvariant() switch
    {
        "strict" => "Strict",
        "lax" => "Lax",
        "none" => "None",
        _ => null,
    };

    internal static DateTimeOffset TruncateToMilliseconds(DateTimeOffset value) =>
        DateTimeOffset.FromUnixTimeMilliseconds(value.ToUnixTimeMilliseconds());

    /// <summary>
    /// Writes <c>Cookie.data</c> in its key order (session/cookie.js <c>get data()</c>): originalMaxAge,
    /// partitioned, priority, expires, secure, httpOnly, domain, path, sameSite; undefined keys are left out the
    /// way <c>JSON.stringify</c> drops them.
    /// </summary>
    internal void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        if (OriginalMaxAge is { } oma)
        {
            writer.WriteNumber("originalMaxAge", (long)Math.Round(oma.TotalMilliseconds));
        }
        else
        {
            writer.WriteNull("originalMaxAge");
        }
        if (Partitioned is { } partitioned)
        {
            writer.WriteBoolean("partitioned", partitioned);
        }
        if (Priority is { } priority)
        {
            writer.WriteString("priority", priority);
        }
        if (Expires is { } expires)
        {
            // Date.prototype.toJSON(): ISO-8601 with milliseconds and Z.
            writer.WriteString("expires", expires.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        }
        else
        {
            writer.WriteNull("expires");
        }
        if (Secure is { } secure)
        {
            writer.WriteBoolean("secure", secure);
        }
        writer.WriteBoolean("httpOnly", HttpOnly);
        if (Domain is { } domain)
        {
            writer.WriteString("domain", domain);
        }
        if (Path is { } path)
        {
            writer.WriteString("path", path);
        }
        if (SameSiteNode is { } sameSite)
        {
            writer.WritePropertyName("sameSite");
            sameSite.WriteTo(writer);
        }
        writer.WriteEndObject();
    }

    /// <summary>Reads a stored cookie object leniently (Store.createSession in session/store.js).</summary>
    internal static SessionCookie Read(JsonObject o, TimeProvider time)
    {
        var c = new SessionCookie(time);
        // Store.createSession keeps the stored originalMaxAge intact rather than deriving it from expires.
        c._expires = o["expires"] is JsonValue e && e.TryGetValue<string>(out var s) &&
            DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var exp)
            ? exp : null;
        c.OriginalMaxAge = o["originalMaxAge"] is JsonValue m && m.TryGetValue<double>(out var ms) ? TimeSpan.FromMilliseconds(ms) : null;
        c.HttpOnly = o["httpOnly"] is not JsonValue h || !h.TryGetValue<bool>(out var ho) || ho;
        c.Path = o.ContainsKey("path") ? (o["path"] is JsonValue p && p.TryGetValue<string>(out var ps) ? ps : null) : "/";
        c.Domain = o["domain"] is JsonValue d && d.TryGetValue<string>(out var ds) ? ds : null;
        c.Secure = o["secure"] is JsonValue sc && sc.TryGetValue<bool>(out var sb) ? sb : null;
        c.SameSiteNode = o["sameSite"]?.DeepClone();
        c.Partitioned = o["partitioned"] is JsonValue pa && pa.TryGetValue<bool>(out var pb) ? pb : null;
        c.Priority = o["priority"] is JsonValue pr && pr.TryGetValue<string>(out var prs) ? prs : null;
        return c;
    }
}

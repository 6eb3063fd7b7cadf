using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace Parley.Sessions;

/// <summary>
/// One session: its id, its <see cref="Cookie"/>, and its data, a JSON object whose keys keep their insertion
/// order and whose unknown keys (written by another app) are kept as they are. Mirrors express-session's
/// <c>req.session</c> (session/session.js): <c>touch</c>, <c>save</c>, <c>reload</c>, <c>regenerate</c>, <c>destroy</c>.
/// </summary>
/// <remarks>
/// Not thread-safe, like an <see cref="HttpContext"/>: use one session from one flow at a time. Outside HTTP
/// (e.g. a Socket.IO handler) load it with <see cref="ParleySessionManager.LoadFromCookieHeaderAsync"/> or
/// <see cref="ParleySessionManager.LoadFromSignedValueAsync"/>, then <see cref="ReloadAsync"/> / <see cref="SaveAsync"/> it.
/// </remarks>
public sealed class ParleySession
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // JSON.stringify does not escape non-ASCII or HTML characters; keep the stored text close to it.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly ParleySessionManager _manager;
    private readonly HttpContext? _context;
    private string? _key;

    internal ParleySession(ParleySessionManager manager, HttpContext? context, string id, SessionCookie cookie, JsonObject data, bool isNew)
    {
        _manager = manager;
        _context = context;
        Id = id;
        Cookie = cookie;
        Data = data;
        IsNew = isNew;
        OriginalId = id;
        OriginalHash = ComputeHash();
    }

    /// <summary>The session id (the part of the cookie before the signature).</summary>
    public string Id { get; private set; }

    /// <summary>
    /// A key for this session that does not reveal its id: base64url of SHA-256 of the id. Use it wherever the
    /// session must be named across a network (e.g. "disconnect the sockets of session K" on a Redis channel).
    /// </summary>
    public string Key => _key ??= ParleySessionManager.ComputeSessionKey(Id);

    /// <summary>The session's cookie settings, stored as the <c>cookie</c> key.</summary>
    public SessionCookie Cookie { get; private set; }

    /// <summary>
    /// The session's data: every stored key but <c>cookie</c>, in order. Change it directly or through
    /// <see cref="Set{T}(string, T, JsonTypeInfo{T})"/>; the change is detected at the end of the request.
    /// </summary>
    public JsonObject Data { get; private set; }

    /// <summary>True when no stored session was loaded: it was generated (or regenerated) for this request.</summary>
    public bool IsNew { get; private set; }

    /// <summary>True once <see cref="DestroyAsync"/> ran; a destroyed session is neither saved nor sent.</summary>
    public bool IsDestroyed { get; private set; }

    internal string OriginalId { get; private set; }

    internal byte[] OriginalHash { get; private set; }

    internal byte[]? SavedHash { get; set; }

    /// <summary>The value read from <paramref name="key"/>, or default when it is absent.</summary>
    [RequiresUnreferencedCode("Uses reflection-based JSON; use the JsonTypeInfo overload for trimming and AOT.")]
    [RequiresDynamicCode("Uses reflection-based JSON; use the JsonTypeInfo overload for trimming and AOT.")]
    public T? Get<T>(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Data[key] is { } node ? node.Deserialize<T>(_manager.Options.JsonSerializerOptions) : default;
    }

    /// <summary>The value read from <paramref name="key"/>, or default when it is absent (source-generated JSON).</summary>
    public T? Get<T>(string key, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(typeInfo);
        return Data[key] is { } node ? node.Deserialize(typeInfo) : default;
    }

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/> as JSON; an existing key keeps its position.</summary>
    [RequiresUnreferencedCode("Uses reflection-based JSON; use the JsonTypeInfo overload for trimming and AOT.")]
    [RequiresDynamicCode("Uses reflection-based JSON; use the JsonTypeInfo overload for trimming and AOT.")]
    public void Set<T>(string key, T value)
    {
        CheckWritableKey(key);
        Data[key] = JsonSerializer.SerializeToNode(value, _manager.Options.JsonSerializerOptions);
    }

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/> as JSON (source-generated).</summary>
    public void Set<T>(string key, T value, JsonTypeInfo<T> typeInfo)
    {
        CheckWritableKey(key);
        ArgumentNullException.ThrowIfNull(typeInfo);
        Data[key] = JsonSerializer.SerializeToNode(value, typeInfo);
    }

    /// <summary>Removes <paramref name="key"/>; true when it was there.</summary>
    public bool Remove(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Data.Remove(key);
    }

    /// <summary>True when <paramref name="key"/> is set.</summary>
    public bool ContainsKey(string key) => Data.ContainsKey(key);

    /// <summary>
    /// Moves <see cref="SessionCookie.Expires"/> to now plus <see cref="SessionCookie.OriginalMaxAge"/>
    /// (session.js <c>touch()</c> → <c>resetMaxAge()</c>). The middleware does it once per response.
    /// </summary>
    public void Touch() => Cookie.ResetMaxAge();

    /// <summary>
    /// Writes the session to the store now (session.js <c>save()</c>). Outside an HTTP request (a Socket.IO handler)
    /// it touches the session first, as express-session's <c>res.end</c> does before it saves.
    /// </summary>
    public async Task SaveAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDestroyed();
        if (_context is null)
        {
            // Nothing else will touch this session before it is stored, and its cookie.expires may be stale: with
            // resave false, HTTP requests only touch the store (connect-redis EXPIRE, connect-pg-simple's expire
            // column) and leave the stored JSON as it was. Writing that expiry back could put it in the past, and the
            // store would end the session (Redis deletes the key, PostgreSQL hides the row).
            Touch();
        }
        var json = ToJson();
        // express-session's wrapped save() records the hash before writing (index.js wrapmethods).
        SavedHash = ComputeHash();
        await _manager.MeteredStore.SetAsync(Id, new SessionRecord(json, Cookie.Expires), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Replaces the data and cookie with what the store holds now (session.js <c>reload()</c>). Throws
    /// <see cref="InvalidOperationException"/> when the store no longer has the session, as express's
    /// "failed to load session" error.
    /// </summary>
    public async Task ReloadAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDestroyed();
        var loaded = await _manager.LoadRecordAsync(Id, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException("failed to load session: the store no longer has it.");
        Cookie = loaded.Cookie;
        Data = loaded.Data;
    }

    /// <summary>
    /// Destroys the stored session and gives this one a new id, an empty data object and a fresh cookie
    /// (Store.prototype.regenerate: destroy, then generate). Use it at login against session fixation.
    /// <see cref="ParleySessionManager.SessionDestroyed"/> is raised for the old session.
    /// </summary>
    public async Task RegenerateAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDestroyed();
        var oldId = Id;
        await _manager.MeteredStore.DestroyAsync(oldId, cancellationToken).ConfigureAwait(false);
        _manager.RaiseDestroyed(oldId, SessionEndReason.Regenerated);
        Id = _manager.NewId(_context);
        _key = null;
        Cookie = _manager.NewCookie(_context);
        Data = new JsonObject();
        IsNew = true;
    }

    /// <summary>
    /// Deletes the session from the store (session.js <c>destroy()</c>); the response then carries no cookie and
    /// <see cref="ParleySessionManager.SessionDestroyed"/> is raised, so that its sockets can be disconnected.
    /// </summary>
    public async Task DestroyAsync(CancellationToken cancellationToken = default)
    {
        if (IsDestroyed)
        {
            return;
        }
        await _manager.MeteredStore.DestroyAsync(Id, cancellationToken).ConfigureAwait(false);
        IsDestroyed = true;
        _manager.RaiseDestroyed(Id, SessionEndReason.Destroyed);
    }

    /// <summary>
    /// The signed value of this session, <c>s:&lt;id&gt;.&lt;signature&gt;</c> (not URL-encoded), signed with the first
    /// secret. A client that cannot send the cookie (another origin, a native app) can pass it in the Socket.IO
    /// CONNECT <c>auth</c> payload; <see cref="ParleySessionManager.LoadFromSignedValueAsync"/> reads it back.
    /// </summary>
    public string GetSignedValue() => _manager.Sign(Id);

    /// <summary>The JSON the store receives: <c>cookie</c> first, then the data keys in order (docs/wire-formats.md §1.3).</summary>
    public string ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("cookie");
            Cookie.WriteTo(writer);
            foreach (var (name, value) in Data)
            {
                writer.WritePropertyName(name);
                if (value is null)
                {
                    writer.WriteNullValue();
                }
                else
                {
                    value.WriteTo(writer);
                }
            }
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    // index.js hash(): the session without its `cookie` key. SHA-256 rather than SHA-1: only equality matters.
    internal byte[] ComputeHash()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            Data.WriteTo(writer);
        }
        return SHA256.HashData(buffer.WrittenSpan);
    }

    internal bool IsModified(byte[] hash) => OriginalId != Id || !hash.AsSpan().SequenceEqual(OriginalHash);

    internal bool IsSaved(byte[] hash) => OriginalId == Id && SavedHash is not null && hash.AsSpan().SequenceEqual(SavedHash);

    internal void MarkDestroyed() => IsDestroyed = true;

    private void CheckWritableKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key == "cookie")
        {
            throw new ArgumentException("'cookie' is the session's cookie object; use ParleySession.Cookie.", nameof(key));
        }
        ThrowIfDestroyed();
    }

    private void ThrowIfDestroyed()
    {
        if (IsDestroyed)
        {
            throw new InvalidOperationException("The session was destroyed.");
        }
    }
}

using System.Buffers;
using System.Text.Json;

namespace Parley.Internal;

/// <summary>
/// Copies of a handshake without a credential, for <see cref="IHandshakeRedactor"/> and <see cref="ParleySocket.RedactHandshake"/>.
/// Shared source, linked into Parley (<c>io.UseAuthentication()</c>) and Parley.Sessions (<c>io.UseSessions()</c>).
/// </summary>
internal static class HandshakeRedaction
{
    /// <summary>
    /// The handshake without the cookies whose name matches (every occurrence: a browser may send duplicates); the
    /// other cookies keep their text and order. The <c>cookie</c> header goes when nothing is left of it.
    /// </summary>
    public static SocketHandshake WithoutCookies(SocketHandshake handshake, Func<string, bool> isCredential)
    {
        var header = handshake.GetHeader("cookie");
        if (string.IsNullOrEmpty(header))
        {
            return handshake;
        }
        var kept = new List<string>();
        var removed = false;
        foreach (var pair in header.Split(';'))
        {
            if (IsCredential(pair, isCredential))
            {
                removed = true;
            }
            else if (pair.Trim(' ', '\t').Length != 0)
            {
                kept.Add(pair.Trim(' ', '\t'));
            }
        }
        return removed ? WithHeader(handshake, "cookie", kept.Count == 0 ? null : string.Join("; ", kept)) : handshake;
    }

    // Names compared as cookie.parse finds them: the text before '=', without surrounding blanks. Cookie fields that
    // HTTP/2 split were joined with ',' into one header value: a pair hiding a credential after a ',' goes as a whole.
    private static bool IsCredential(string pair, Func<string, bool> isCredential)
    {
        foreach (var piece in pair.Split(','))
        {
            var eq = piece.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0 && isCredential(piece[..eq].Trim(' ', '\t')))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The handshake without a header (names compared without case).</summary>
    public static SocketHandshake WithoutHeader(SocketHandshake handshake, string name) =>
        handshake.GetHeader(name) is null ? handshake : WithHeader(handshake, name, null);

    /// <summary>The handshake without one property of its <c>auth</c> object.</summary>
    public static SocketHandshake WithoutAuthField(SocketHandshake handshake, string field)
    {
        var auth = handshake.Auth;
        if (auth.ValueKind != JsonValueKind.Object || !auth.TryGetProperty(field, out _))
        {
            return handshake;
        }
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in auth.EnumerateObject())
            {
                if (property.NameEquals(field))
                {
                    continue;
                }
                property.WriteTo(writer);
            }
            writer.WriteEndObject();
        }
        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return handshake.With(auth: document.RootElement.Clone());
    }

    private static SocketHandshake WithHeader(SocketHandshake handshake, string name, string? value)
    {
        var headers = new Dictionary<string, string>(handshake.Headers.Count, StringComparer.Ordinal);
        foreach (var (key, v) in handshake.Headers)
        {
            if (!string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                headers[key] = v;
            }
        }
        if (value is not null)
        {
            headers[name] = value;
        }
        return handshake.With(headers: headers);
    }
}

using System.Buffers;
using System.Globalization;
using System.Text;

namespace Parley.Sessions;

/// <summary>
/// The cookie text rules express-session gets from jshttp/cookie 0.7 (<c>index.js</c> <c>parse</c>/<c>serialize</c>)
/// and from JavaScript's <c>encodeURIComponent</c>/<c>decodeURIComponent</c>; docs/wire-formats.md §1.1. Read leniently the way
/// <c>cookie.parse</c> does, write exactly what <c>cookie.serialize</c> writes.
/// </summary>
public static class CookieCodec
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// The value of the first cookie named <paramref name="name"/> in a <c>Cookie</c> header, as
    /// <c>cookie.parse(header)[name]</c> returns it: later duplicates ignored ("only assign once"), surrounding
    /// quotes stripped, percent-decoded only when it contains <c>%</c>, and left as it is when the decoding fails
    /// (<c>tryDecode</c>). Null when there is no such cookie.
    /// </summary>
    public static string? GetFirst(ReadOnlySpan<char> header, string name)
    {
        var raw = GetFirstRaw(header, name);
        return raw is not null && raw.Contains('%', StringComparison.Ordinal) && TryDecodeUriComponent(raw, out var decoded) ? decoded : raw;
    }

    /// <summary>As <see cref="GetFirst"/>, without the percent-decoding.</summary>
    public static string? GetFirstRaw(ReadOnlySpan<char> header, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var len = header.Length;
        if (len < 2)
        {
            return null;
        }
        var index = 0;
        do
        {
            var eqIdx = IndexOf(header, '=', index);
            if (eqIdx == -1)
            {
                break;
            }
            var endIdx = IndexOf(header, ';', index);
            if (endIdx == -1)
            {
                endIdx = len;
            }
            else if (eqIdx > endIdx)
            {
                // backtrack on prior semicolon, exactly as cookie.parse does
                index = header[..eqIdx].LastIndexOf(';') + 1;
                continue;
            }
            var keyStart = StartIndex(header, index, eqIdx);
            var keyEnd = EndIndex(header, eqIdx, keyStart);
            if (header[keyStart..keyEnd].SequenceEqual(name))
            {
                var valStart = StartIndex(header, eqIdx + 1, endIdx);
                var valEnd = EndIndex(header, endIdx, valStart);
                if (valEnd > valStart && header[valStart] == '"' && header[valEnd - 1] == '"')
                {
                    valStart++;
                    valEnd--;
                }
                // A lone '"' ends up with start past end: String.prototype.slice gives "".
                return valStart >= valEnd ? string.Empty : header[valStart..valEnd].ToString();
            }
            index = endIdx + 1;
        }
        while (index < len);
        return null;
    }

    /// <summary>JavaScript's <c>decodeURIComponent</c>; false where it would throw a <c>URIError</c>.</summary>
    public static bool TryDecodeUriComponent(string value, out string decoded)
    {
        ArgumentNullException.ThrowIfNull(value);
        decoded = value;
        var first = value.IndexOf('%', StringComparison.Ordinal);
        if (first < 0)
        {
            return true;
        }
        var sb = new StringBuilder(value.Length);
        sb.Append(value, 0, first);
        var bytes = new byte[value.Length / 3 + 1];
        var i = first;
        while (i < value.Length)
        {
            if (value[i] != '%')
            {
                sb.Append(value[i++]);
                continue;
            }
            // A run of %XX escapes is one UTF-8 byte sequence; a bad hex digit or bad UTF-8 is a URIError.
            var n = 0;
            while (i < value.Length && value[i] == '%')
            {
                if (i + 3 > value.Length ||
                    !byte.TryParse(value.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
                {
                    return false;
                }
                bytes[n++] = b;
                i += 3;
            }
            try
            {
                sb.Append(StrictUtf8.GetString(bytes, 0, n));
            }
            catch (ArgumentException)
            {
                return false;
            }
        }
        decoded = sb.ToString();
        return true;
    }

    /// <summary>
    /// JavaScript's <c>encodeURIComponent</c>: everything but <c>A-Z a-z 0-9 - _ . ! ~ * ' ( )</c> becomes UTF-8
    /// <c>%XX</c> with upper-case hex (unlike <see cref="Uri.EscapeDataString(string)"/>, which also escapes
    /// <c>! * ' ( )</c>). A lone surrogate throws, as it does in JavaScript.
    /// </summary>
    public static string EncodeUriComponent(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var i = 0;
        while (i < value.Length && IsUnreserved(value[i]))
        {
            i++;
        }
        if (i == value.Length)
        {
            return value;
        }
        var sb = new StringBuilder(value.Length + 16);
        sb.Append(value, 0, i);
        Span<byte> utf8 = stackalloc byte[4];
        for (; i < value.Length; i++)
        {
            var c = value[i];
            if (IsUnreserved(c))
            {
                sb.Append(c);
                continue;
            }
            int n;
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                n = new Rune(c, value[i + 1]).EncodeToUtf8(utf8);
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                throw new ArgumentException("URI malformed: lone surrogate", nameof(value));
            }
            else
            {
                n = new Rune(c).EncodeToUtf8(utf8);
            }
            for (var k = 0; k < n; k++)
            {
                sb.Append('%').Append(utf8[k].ToString("X2", CultureInfo.InvariantCulture));
            }
        }
        return sb.ToString();
    }

    /// <summary>
    /// <c>cookie.serialize(name, value, cookie.data)</c> for a session cookie: the attributes in jshttp/cookie's order
    /// (Domain, Path, Expires as <c>toUTCString()</c>, HttpOnly, Secure, Partitioned, Priority, SameSite) and never
    /// Max-Age, because express-session's <c>Cookie.data</c> has no <c>maxAge</c> (session/cookie.js).
    /// </summary>
    public static string SerializeSetCookie(string name, string value, SessionCookie cookie)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(cookie);
        var sb = new StringBuilder(128);
        sb.Append(name).Append('=').Append(EncodeUriComponent(value));
        if (cookie.Domain is { } domain)
        {
            sb.Append("; Domain=").Append(domain);
        }
        if (cookie.Path is { } path)
        {
            sb.Append("; Path=").Append(path);
        }
        if (cookie.Expires is { } expires)
        {
            // Date.prototype.toUTCString(): "Sun, 22 Nov 2026 03:07:48 GMT" is .NET's RFC 1123 "r" pattern.
            sb.Append("; Expires=").Append(expires.ToUniversalTime().ToString("r", CultureInfo.InvariantCulture));
        }
        if (cookie.HttpOnly)
        {
            sb.Append("; HttpOnly");
        }
        if (cookie.Secure == true)
        {
            sb.Append("; Secure");
        }
        if (cookie.Partitioned == true)
        {
            sb.Append("; Partitioned");
        }
        if (cookie.Priority is { } priority)
        {
            sb.Append("; Priority=").Append(priority.ToLowerInvariant() switch
            {
                "low" => "Low",
                "high" => "High",
                _ => "Medium",
            });
        }
        if (cookie.SameSiteAttribute is { } sameSite)
        {
            sb.Append("; SameSite=").Append(sameSite);
        }
        return sb.ToString();
    }

    private static bool IsUnreserved(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '!' or '~' or '*' or '\'' or '(' or ')';

    private static int IndexOf(ReadOnlySpan<char> s, char c, int from)
    {
        var i = s[from..].IndexOf(c);
        return i < 0 ? -1 : i + from;
    }

    private static int StartIndex(ReadOnlySpan<char> s, int index, int max)
    {
        while (index < max && s[index] is ' ' or '\t')
        {
            index++;
        }
        return index;
    }

    private static int EndIndex(ReadOnlySpan<char> s, int index, int min)
    {
        while (index > min && s[index - 1] is ' ' or '\t')
        {
            index--;
        }
        return index;
    }
}

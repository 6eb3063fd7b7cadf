using System.Numerics;

namespace Parley.Protocol.SocketIO;

/// <summary>
/// Finds and replaces ill-formed UTF-16 in JSON text: a <c>\uD800</c>–<c>\uDBFF</c> escape not followed by a
/// <c>\uDC00</c>–<c>\uDFFF</c> escape, or a low one with no high one before it. JSON.parse accepts them (a
/// JavaScript string is any sequence of code units, and socket.io-client's JSON.stringify writes a lone
/// surrogate as <c>\udxxx</c>), but <c>JsonElement.GetString()</c> throws <see cref="InvalidOperationException"/> on
/// them. Replacing each with <c>\ufffd</c> (U+FFFD, the replacement character) keeps the text's length, so the
/// repair is a copy and in-place overwrites. See docs/security.md "Ill-formed UTF-16".
/// </summary>
internal static class LoneSurrogates
{
    private const int EscapeLength = 6; // \uXXXX

    /// <summary>
    /// Returns a copy of <paramref name="json"/> with every lone surrogate escape replaced by <c>\ufffd</c>, or
    /// null when there is none (the common case: the scan stops at once when the text has no backslash).
    /// Malformed JSON is scanned as far as it goes; the parser rejects it afterwards.
    /// </summary>
    public static T[]? Replace<T>(ReadOnlySpan<T> json)
        where T : unmanaged, IBinaryInteger<T>
    {
        T[]? copy = null;
        var i = 0;
        while (i < json.Length)
        {
            var slash = json[i..].IndexOf(T.CreateTruncating('\\'));
            if (slash < 0)
            {
                break;
            }
            var p = i + slash;
            if (p + 1 >= json.Length || int.CreateTruncating(json[p + 1]) != 'u')
            {
                i = p + 2; // any other escape: \" \\ \/ \b \f \n \r \t
                continue;
            }
            var unit = Hex4(json, p + 2);
            if (unit is >= 0xD800 and <= 0xDBFF)
            {
                if (p + 2 * EscapeLength <= json.Length && int.CreateTruncating(json[p + EscapeLength]) == '\\'
                    && int.CreateTruncating(json[p + EscapeLength + 1]) == 'u'
                    && Hex4(json, p + EscapeLength + 2) is >= 0xDC00 and <= 0xDFFF)
                {
                    i = p + 2 * EscapeLength; // a well-formed pair
                    continue;
                }
                Overwrite(json, ref copy, p);
            }
            else if (unit is >= 0xDC00 and <= 0xDFFF)
            {
                Overwrite(json, ref copy, p);
            }
            i = p + EscapeLength;
        }
        return copy;
    }

    /// <summary>
    /// <paramref name="json"/> with lone surrogates replaced by U+FFFD, both as <c>\udxxx</c> escapes and as raw
    /// UTF-16 code units (text that came from somewhere other than a UTF-8 decoder may hold either).
    /// </summary>
    public static string Replace(string json)
    {
        var escaped = Replace<char>(json.AsSpan());
        var text = escaped is null ? json : new string(escaped);
        if (text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') >= 0)
        {
            var chars = text.ToCharArray();
            for (var k = 0; k < chars.Length; k++)
            {
                if (char.IsHighSurrogate(chars[k]) && k + 1 < chars.Length && char.IsLowSurrogate(chars[k + 1]))
                {
                    k++;
                }
                else if (char.IsSurrogate(chars[k]))
                {
                    chars[k] = '\uFFFD';
                }
            }
            text = new string(chars);
        }
        return text;
    }

    private static void Overwrite<T>(ReadOnlySpan<T> json, ref T[]? copy, int position)
        where T : unmanaged, IBinaryInteger<T>
    {
        copy ??= json.ToArray();
        // "\ufffd": the escape of U+FFFD, as long as the escape it replaces.
        copy[position + 2] = T.CreateTruncating('f');
        copy[position + 3] = T.CreateTruncating('f');
        copy[position + 4] = T.CreateTruncating('f');
        copy[position + 5] = T.CreateTruncating('d');
    }

    /// <summary>The value of four hex digits at <paramref name="start"/>, or -1 when they are not all there.</summary>
    private static int Hex4<T>(ReadOnlySpan<T> json, int start)
        where T : unmanaged, IBinaryInteger<T>
    {
        if (start + 4 > json.Length)
        {
            return -1;
        }
        var value = 0;
        for (var k = start; k < start + 4; k++)
        {
            var digit = HexDigit(int.CreateTruncating(json[k]));
            if (digit < 0)
            {
                return -1;
            }
            value = (value << 4) | digit;
        }
        return value;
    }

    private static int HexDigit(int c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}

using System.Globalization;
using System.Text;

namespace Parley.Protocol.SocketIO;

/// <summary>
/// The bits of JavaScript string-to-number semantics that socket.io-parser's header parsing relies on
/// (it uses <c>Number(str)</c> and <c>Number(c) == c</c>), over UTF-8.
/// </summary>
internal static class JsText
{
    /// <summary>
    /// ECMAScript WhiteSpace and LineTerminator (StrWhiteSpaceChar): what <c>Number()</c> trims, and the
    /// single characters for which <c>Number(c)</c> is 0 rather than NaN.
    /// </summary>
    public static bool IsWhiteSpace(Rune rune) => rune.Value switch
    {
        0x09 or 0x0A or 0x0B or 0x0C or 0x0D or 0x20 or 0xA0 or 0x1680 or 0x2028 or 0x2029
            or 0x202F or 0x205F or 0x3000 or 0xFEFF => true,
        >= 0x2000 and <= 0x200A => true,
        _ => false,
    };

    /// <summary>Decodes the rune at the start of <paramref name="utf8"/>; invalid bytes decode as U+FFFD.</summary>
    public static Rune First(ReadOnlySpan<byte> utf8, out int length)
    {
        Rune.DecodeFromUtf8(utf8, out var rune, out length);
        return rune;
    }

    public static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> utf8)
    {
        while (!utf8.IsEmpty && IsWhiteSpace(First(utf8, out var length)))
        {
            utf8 = utf8[length..];
        }

        while (!utf8.IsEmpty)
        {
            Rune.DecodeLastFromUtf8(utf8, out var rune, out var length);
            if (!IsWhiteSpace(rune))
            {
                break;
            }

            utf8 = utf8[..^length];
        }

        return utf8;
    }

    /// <summary>
    /// JavaScript <c>Number(text)</c> (ECMAScript StringToNumber): whitespace-trimmed; empty is 0;
    /// <c>0x</c>/<c>0o</c>/<c>0b</c> integers; signed decimal with optional fraction and exponent; Infinity.
    /// Anything else is NaN.
    /// </summary>
    public static double ToNumber(ReadOnlySpan<byte> utf8)
    {
        var s = Trim(utf8);
        if (s.IsEmpty)
        {
            return 0;
        }

        if (s.Length > 2 && s[0] == (byte)'0')
        {
            var radix = (s[1] | 0x20) switch
            {
                (byte)'x' => 16,
                (byte)'o' => 8,
                (byte)'b' => 2,
                _ => 0,
            };
            if (radix != 0)
            {
                return ParseRadix(s[2..], radix);
            }
        }

        var i = 0;
        var negative = false;
        if (s[0] is (byte)'+' or (byte)'-')
        {
            negative = s[0] == (byte)'-';
            i = 1;
        }

        if (s[i..].SequenceEqual("Infinity"u8))
        {
            return negative ? double.NegativeInfinity : double.PositiveInfinity;
        }

        // StrUnsignedDecimalLiteral: digits [. digits?] [exp] | . digits [exp]. Validate the grammar ourselves so
        // that .NET's own leniencies (thousands separators, "∞", …) cannot leak in, then let it round.
        var intDigits = CountDigits(s, ref i);
        var fracDigits = 0;
        if (i < s.Length && s[i] == (byte)'.')
        {
            i++;
            fracDigits = CountDigits(s, ref i);
        }

        if (intDigits + fracDigits == 0)
        {
            return double.NaN;
        }

        if (i < s.Length && (s[i] | 0x20) == (byte)'e')
        {
            i++;
            if (i < s.Length && s[i] is (byte)'+' or (byte)'-')
            {
                i++;
            }

            if (CountDigits(s, ref i) == 0)
            {
                return double.NaN;
            }
        }

        if (i != s.Length)
        {
            return double.NaN;
        }

        return double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    private static int CountDigits(ReadOnlySpan<byte> s, ref int i)
    {
        var start = i;
        while (i < s.Length && char.IsAsciiDigit((char)s[i]))
        {
            i++;
        }

        return i - start;
    }

    private static double ParseRadix(ReadOnlySpan<byte> digits, int radix)
    {
        double value = 0;
        foreach (var b in digits)
        {
            var d = char.IsAsciiDigit((char)b) ? b - '0'
                : char.IsAsciiLetter((char)b) ? (b | 0x20) - 'a' + 10
                : int.MaxValue;
            if (d >= radix)
            {
                return double.NaN;
            }

            value = (value * radix) + d;
        }

        return value;
    }
}

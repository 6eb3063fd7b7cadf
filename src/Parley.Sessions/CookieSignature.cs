using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Parley.Sessions;

/// <summary>
/// The signature express-session puts on its cookie: <c>value + "." + base64(HMAC-SHA256(secret, value))</c> with
/// the standard base64 alphabet and the trailing <c>=</c> removed (tj/node-cookie-signature <c>index.js</c>,
/// 1.0.7 and 1.2.x alike; docs/wire-formats.md §1.1). Keys and messages are UTF-8, as Node's <c>createHmac</c> does with strings.
/// </summary>
public static class CookieSignature
{
    // A SHA-256 MAC is 32 bytes: 44 base64 characters with one '=' of padding, 43 without.
    private const int MacChars = 43;

    /// <summary><c>sign(value, secret)</c> of cookie-signature.</summary>
    public static string Sign(string value, string secret)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(secret);
        return Sign(value, Encoding.UTF8.GetBytes(secret));
    }

    internal static string Sign(string value, byte[] key)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        ComputeMac(value, key, mac);
        return string.Create(value.Length + 1 + MacChars, (value, Mac: mac.ToArray()), static (dest, s) =>
        {
            s.value.AsSpan().CopyTo(dest);
            dest[s.value.Length] = '.';
            Span<char> b64 = stackalloc char[44];
            Convert.TryToBase64Chars(s.Mac, b64, out _);
            b64[..MacChars].CopyTo(dest[(s.value.Length + 1)..]);
        });
    }

    /// <summary>
    /// <c>unsign(input, secret)</c> of cookie-signature: splits at the <em>last</em> <c>.</c>, recomputes the MAC
    /// and compares in constant time. Returns the value when it verifies.
    /// </summary>
    public static bool TryUnsign(string input, string secret, [NotNullWhen(true)] out string? value)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(secret);
        return TryUnsign(input, Encoding.UTF8.GetBytes(secret), out value);
    }

    internal static bool TryUnsign(string input, byte[] key, [NotNullWhen(true)] out string? value)
    {
        value = null;
        var dot = input.LastIndexOf('.');
        if (dot < 0 || input.Length - dot - 1 != MacChars)
        {
            // cookie-signature would compare against a string of a different length: never equal.
            return false;
        }
        var candidate = input[..dot];
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        ComputeMac(candidate, key, mac);
        Span<char> expected = stackalloc char[44];
        Convert.TryToBase64Chars(mac, expected, out _);
        // Compare the character bytes of both MACs in constant time (cookie-signature 1.2 uses timingSafeEqual).
        var given = input.AsSpan(dot + 1);
        if (!CryptographicOperations.FixedTimeEquals(
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(expected[..MacChars]),
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(given)))
        {
            return false;
        }
        value = candidate;
        return true;
    }

    private static void ComputeMac(string value, byte[] key, Span<byte> mac)
    {
        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        var rented = max <= 512 ? null : System.Buffers.ArrayPool<byte>.Shared.Rent(max);
        Span<byte> buffer = rented ?? stackalloc byte[512];
        try
        {
            var n = Encoding.UTF8.GetBytes(value, buffer);
            HMACSHA256.HashData(key, buffer[..n], mac);
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}

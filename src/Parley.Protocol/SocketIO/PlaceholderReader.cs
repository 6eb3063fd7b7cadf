using System.Runtime.InteropServices;
using System.Text.Json;

namespace Parley.Protocol.SocketIO;

/// <summary>What <see cref="PlaceholderReader.Read"/> found.</summary>
public enum PlaceholderKind
{
    /// <summary>Not an object, or its <c>_placeholder</c> is not <c>true</c>: an ordinary value.</summary>
    NotPlaceholder,

    /// <summary><c>_placeholder</c> is true and <c>num</c> is a non-negative integer.</summary>
    Valid,

    /// <summary><c>_placeholder</c> is true but <c>num</c> is missing, not a number, negative or fractional.</summary>
    Invalid,
}

/// <summary>
/// Reads binary placeholders (<c>{"_placeholder":true,"num":N}</c>) the way socket.io-parser lib/binary.ts
/// <c>_reconstructPacket</c> does. The one placeholder test: the decoder, event arguments, the placeholder converter
/// and the Redis adapter's msgpack bridge all call it.
/// </summary>
public static class PlaceholderReader
{
    private static ReadOnlySpan<byte> PlaceholderName => "_placeholder"u8;

    private static ReadOnlySpan<byte> NumName => "num"u8;

    /// <summary>
    /// Whether <paramref name="element"/> is a placeholder: an object whose (last, as in JSON.parse) <c>_placeholder</c>
    /// is <c>true</c>, with <paramref name="num"/> its (last) <c>num</c> when that is a non-negative integer.
    /// </summary>
    public static PlaceholderKind Read(JsonElement element, out long num)
    {
        num = 0;
        if (element.ValueKind != JsonValueKind.Object)
        {
            return PlaceholderKind.NotPlaceholder;
        }

        // Enumerate rather than TryGetProperty: with duplicate keys JSON.parse keeps the last one.
        JsonValueKind placeholder = JsonValueKind.Undefined;
        JsonElement numElement = default;
        var hasNum = false;
        // Not JsonProperty.NameEquals: it throws on lone surrogate escapes such as {"\ud800":1}.
        foreach (var property in element.EnumerateObject())
        {
            var name = JsonMarshal.GetRawUtf8PropertyName(property);
            if (JsonStringify.ContentEquals(name, PlaceholderName))
            {
                placeholder = property.Value.ValueKind;
            }
            else if (JsonStringify.ContentEquals(name, NumName))
            {
                numElement = property.Value;
                hasNum = true;
            }
        }

        // Upstream tests `data._placeholder === true`: only the literal true counts.
        if (placeholder != JsonValueKind.True)
        {
            return PlaceholderKind.NotPlaceholder;
        }

        // Upstream requires `typeof num === "number"` (a string such as "splice" reached a function in
        // CVE-2022-2421) and 0 <= num < count. It lets a fractional num through (it then yields undefined);
        // we reject it. -0 is 0.
        if (!hasNum || numElement.ValueKind != JsonValueKind.Number || !numElement.TryGetDouble(out var value)
            || value < 0 || value != Math.Floor(value) || value > int.MaxValue)
        {
            return PlaceholderKind.Invalid;
        }

        num = (long)value;
        return PlaceholderKind.Valid;
    }

    /// <summary>
    /// True when <paramref name="element"/> is a valid placeholder whose <c>num</c> is below
    /// <paramref name="attachmentCount"/>; <paramref name="index"/> is then that number.
    /// </summary>
    public static bool TryGetIndex(JsonElement element, int attachmentCount, out int index)
    {
        if (Read(element, out var num) == PlaceholderKind.Valid && num < attachmentCount)
        {
            index = (int)num;
            return true;
        }
        index = -1;
        return false;
    }
}

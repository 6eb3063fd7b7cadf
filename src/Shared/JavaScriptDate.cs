using System.Globalization;

namespace Parley.Internal;

/// <summary>
/// JavaScript's <c>Date.prototype.toString()</c> form, which socket.io sends as <c>handshake.time</c>
/// (socket.io lib/socket.ts <c>buildHandshake</c>: <c>time: new Date() + ""</c>), e.g.
/// <c>Wed Dec 02 2026 11:32:55 GMT+0000 (Coordinated Universal Time)</c>. Shared source, linked into the projects
/// that write or read a handshake on the wire (fetchSockets replies, the admin UI), so there is no public API.
/// </summary>
internal static class JavaScriptDate
{
    // "ddd MMM dd yyyy HH:mm:ss", then " GMT+hhmm" and, from Node, " (time zone name)".
    private const string DateTimePart = "ddd MMM dd yyyy HH:mm:ss";
    private const int DateTimeLength = 24;

    /// <summary>
    /// <paramref name="time"/> as Node writes it. At offset zero this is byte for byte what Node writes with
    /// <c>TZ=UTC</c>; at another offset the zone name, which only Node's ICU knows, is left out (Date.parse accepts
    /// that form).
    /// </summary>
    public static string Format(DateTimeOffset time)
    {
        var offset = time.Offset;
        var sign = offset < TimeSpan.Zero ? '-' : '+';
        var abs = offset.Duration();
        var text = string.Create(CultureInfo.InvariantCulture,
            $"{time.ToString(DateTimePart, CultureInfo.InvariantCulture)} GMT{sign}{abs.Hours:00}{abs.Minutes:00}");
        return offset == TimeSpan.Zero ? text + " (Coordinated Universal Time)" : text;
    }

    /// <summary>Reads what <see cref="Format"/> or Node wrote, with its offset; false for anything else.</summary>
    public static bool TryParse(string? text, out DateTimeOffset time)
    {
        time = default;
        // "Wed Dec 02 2026 11:32:55 GMT+0000": the date and time, then the offset as GMT and four digits.
        if (text is null || text.Length < DateTimeLength + 9 || string.CompareOrdinal(text, DateTimeLength, " GMT", 0, 4) != 0
            || !DateTime.TryParseExact(text.AsSpan(0, DateTimeLength), DateTimePart, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local)
            || text[DateTimeLength + 4] is not ('+' or '-')
            || !int.TryParse(text.AsSpan(DateTimeLength + 5, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var hours)
            || !int.TryParse(text.AsSpan(DateTimeLength + 7, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var minutes)
            || hours > 14 || minutes > 59)
        {
            return false;
        }
        var offset = new TimeSpan(hours, minutes, 0);
        time = new DateTimeOffset(local, text[DateTimeLength + 4] == '-' ? -offset : offset);
        return true;
    }
}

using System.Text;

namespace Parley.Tests.Serialization;

/// <summary>Test vectors in the notation of docs/wire-formats.md: hex bytes with "quoted" ASCII runs.</summary>
internal static class Hex
{
    public static byte[] Parse(string text)
    {
        var bytes = new List<byte>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '"')
            {
                var end = text.IndexOf('"', i + 1);
                bytes.AddRange(Encoding.UTF8.GetBytes(text[(i + 1)..end]));
                i = end + 1;
            }
            else
            {
                bytes.Add(Convert.ToByte(text.Substring(i, 2), 16));
                i += 2;
            }
        }
        return [.. bytes];
    }

    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);
}

using System.Text;

namespace Parley.Resp;

/// <summary>One argument of a command: a string (sent as UTF-8), raw bytes, or an integer (sent as its digits).</summary>
internal readonly struct RespArg
{
    private readonly string? _text;
    private readonly ReadOnlyMemory<byte> _bytes;
    private readonly long _integer;
    private readonly byte _kind; // 0 text, 1 bytes, 2 integer

    private RespArg(string? text, ReadOnlyMemory<byte> bytes, long integer, byte kind)
    {
        _text = text;
        _bytes = bytes;
        _integer = integer;
        _kind = kind;
    }

    public static implicit operator RespArg(string value) => new(value, default, 0, 0);

    public static implicit operator RespArg(ReadOnlyMemory<byte> value) => new(null, value, 0, 1);

    public static implicit operator RespArg(byte[] value) => new(null, value, 0, 1);

    public static implicit operator RespArg(long value) => new(null, default, value, 2);

    public static implicit operator RespArg(int value) => new(null, default, value, 2);

    internal int MaxByteCount => _kind switch
    {
        0 => Encoding.UTF8.GetMaxByteCount(_text!.Length),
        1 => _bytes.Length,
        _ => 20,
    };

    /// <summary>Writes the argument's bytes; returns the count.</summary>
    internal int WriteTo(Span<byte> destination) => _kind switch
    {
        0 => Encoding.UTF8.GetBytes(_text, destination),
        1 => Copy(_bytes.Span, destination),
        _ => _integer.TryFormat(destination, out var n, default, System.Globalization.CultureInfo.InvariantCulture) ? n : 0,
    };

    internal int ByteCount => _kind switch
    {
        0 => Encoding.UTF8.GetByteCount(_text!),
        1 => _bytes.Length,
        _ => CountDigits(_integer),
    };

    public override string ToString() => _kind switch
    {
        0 => _text!,
        1 => $"<{_bytes.Length} bytes>",
        _ => _integer.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static int Copy(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        source.CopyTo(destination);
        return source.Length;
    }

    private static int CountDigits(long value)
    {
        Span<byte> scratch = stackalloc byte[20];
        value.TryFormat(scratch, out var n, default, System.Globalization.CultureInfo.InvariantCulture);
        return n;
    }
}

using System.Globalization;
using System.Text;

namespace Parley.Resp;

/// <summary>
/// One parsed reply. Strings keep their bytes (values are binary-safe msgpack or JSON); the accessors decode on
/// demand. Aggregates (array, map, set, push) hold their items; maps as a flat key, value, key, value list.
/// </summary>
internal readonly struct RespValue
{
    private readonly byte[]? _bytes;
    private readonly RespValue[]? _items;

    private RespValue(RespType type, long integer, byte[]? bytes, RespValue[]? items)
    {
        Type = type;
        Integer = integer;
        _bytes = bytes;
        _items = items;
    }

    public static readonly RespValue Null = new(RespType.Null, 0, null, null);

    public RespType Type { get; }

    /// <summary>The value of an integer (or RESP3 boolean as 0/1) reply.</summary>
    public long Integer { get; }

    public bool IsNull => Type == RespType.Null;

    /// <summary>The raw bytes of a simple string, error, bulk string, double, big number or verbatim string.</summary>
    public ReadOnlyMemory<byte> Bytes => _bytes;

    public ReadOnlySpan<byte> Span => _bytes;

    /// <summary>The items of an array, set, push or (flattened) map; empty for other types.</summary>
    public ReadOnlySpan<RespValue> Items => _items;

    public int Count => _items?.Length ?? 0;

    public RespValue this[int index] => _items![index];

    public static RespValue FromInteger(long value) => new(RespType.Integer, value, null, null);

    public static RespValue FromBytes(RespType type, byte[] bytes) => new(type, 0, bytes, null);

    public static RespValue FromItems(RespType type, RespValue[] items) => new(type, 0, null, items);

    public static RespValue FromBoolean(bool value) => new(RespType.Boolean, value ? 1 : 0, null, null);

    /// <summary>The text of a string-like reply, the digits of an integer, or null for a null reply.</summary>
    public string? AsString() => Type switch
    {
        RespType.Null => null,
        RespType.Integer => Integer.ToString(CultureInfo.InvariantCulture),
        RespType.Boolean => Integer != 0 ? "true" : "false",
        _ when _bytes is not null => Encoding.UTF8.GetString(_bytes),
        _ => null,
    };

    /// <summary>An integer reply, or a bulk string holding an integer (GET of a counter).</summary>
    public long AsInt64()
    {
        if (Type is RespType.Integer or RespType.Boolean)
        {
            return Integer;
        }
        if (_bytes is not null && long.TryParse(_bytes, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }
        throw new InvalidCastException($"a {Type} reply is not an integer");
    }

    /// <summary>The reply's own byte array (fresh per reply, safe to keep), or null for a null reply.</summary>
    public byte[]? AsBytes() => _bytes;

    public override string ToString() => Type switch
    {
        RespType.Array or RespType.Set or RespType.Push or RespType.Map => $"{Type}[{Count}]",
        _ => $"{Type}:{AsString()}",
    };
}

using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Parley.MessagePack;

/// <summary>
/// Writes msgpack exactly as notepack.io 3.0.1 does (<c>lib/encode.js</c>), which is the wire format of
/// <c>@socket.io/redis-adapter</c>: every header is the smallest one that fits, integers take the smallest of
/// positive fixint / uint8..64 / negative fixint / int8..64, non-integers are always float64 (notepack never writes
/// float32), byte arrays are bin8/16/32, dates are timestamp ext −1 with millisecond precision.
/// Spec: https://github.com/msgpack/msgpack/blob/master/spec.md
/// </summary>
internal ref struct MessagePackWriter
{
    private readonly IBufferWriter<byte> _output;

    public MessagePackWriter(IBufferWriter<byte> output) => _output = output;

    // nil: c0. notepack also writes JS undefined as c0 (and omits undefined map values).
    public readonly void WriteNil() => WriteByte(0xc0);

    // false: c2, true: c3
    public readonly void WriteBoolean(bool value) => WriteByte(value ? (byte)0xc3 : (byte)0xc2);

    /// <summary>
    /// positive fixint 0xxxxxxx | uint8 cc | uint16 cd | uint32 ce | uint64 cf, and for negatives
    /// negative fixint 111xxxxx | int8 d0 | int16 d1 | int32 d2 | int64 d3 — notepack's order of tests.
    /// </summary>
    public readonly void WriteInt64(long value)
    {
        if (value >= 0)
        {
            WriteUInt64((ulong)value);
            return;
        }
        var span = _output.GetSpan(9);
        int size;
        if (value >= -0x20)
        {
            span[0] = unchecked((byte)value);
            size = 1;
        }
        else if (value >= sbyte.MinValue)
        {
            span[0] = 0xd0;
            span[1] = unchecked((byte)value);
            size = 2;
        }
        else if (value >= short.MinValue)
        {
            span[0] = 0xd1;
            BinaryPrimitives.WriteInt16BigEndian(span[1..], (short)value);
            size = 3;
        }
        else if (value >= int.MinValue)
        {
            span[0] = 0xd2;
            BinaryPrimitives.WriteInt32BigEndian(span[1..], (int)value);
            size = 5;
        }
        else
        {
            span[0] = 0xd3;
            BinaryPrimitives.WriteInt64BigEndian(span[1..], value);
            size = 9;
        }
        _output.Advance(size);
    }

    public readonly void WriteUInt64(ulong value)
    {
        var span = _output.GetSpan(9);
        int size;
        if (value < 0x80)
        {
            span[0] = (byte)value;
            size = 1;
        }
        else if (value <= byte.MaxValue)
        {
            span[0] = 0xcc;
            span[1] = (byte)value;
            size = 2;
        }
        else if (value <= ushort.MaxValue)
        {
            span[0] = 0xcd;
            BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)value);
            size = 3;
        }
        else if (value <= uint.MaxValue)
        {
            span[0] = 0xce;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)value);
            size = 5;
        }
        else
        {
            span[0] = 0xcf;
            BinaryPrimitives.WriteUInt64BigEndian(span[1..], value);
            size = 9;
        }
        _output.Advance(size);
    }

    /// <summary>
    /// float64: cb + IEEE 754 big-endian, notepack's only float form. NaN is written as V8's canonical
    /// <c>7ff8000000000000</c> (.NET's <see cref="double.NaN"/> has the sign bit set).
    /// </summary>
    public readonly void WriteDouble(double value)
    {
        var span = _output.GetSpan(9);
        span[0] = 0xcb;
        if (double.IsNaN(value))
        {
            BinaryPrimitives.WriteUInt64BigEndian(span[1..], 0x7ff8_0000_0000_0000UL);
        }
        else
        {
            BinaryPrimitives.WriteDoubleBigEndian(span[1..], value);
        }
        _output.Advance(9);
    }

    /// <summary>
    /// A JS number the way notepack writes it: an integral finite value as the smallest integer, anything else as
    /// float64 (<c>Math.floor(value) !== value || !isFinite(value)</c>). Integral values outside the 64-bit range
    /// go out as float64, where notepack would write a wrong uint64.
    /// </summary>
    public readonly void WriteNumber(double value)
    {
        if (double.IsFinite(value) && Math.Floor(value) == value)
        {
            if (value >= 0 && value < 18446744073709551616.0)
            {
                WriteUInt64((ulong)value);
                return;
            }
            if (value < 0 && value >= -9223372036854775808.0)
            {
                WriteInt64((long)value);
                return;
            }
        }
        WriteDouble(value);
    }

    /// <summary>fixstr 101xxxxx | str8 d9 | str16 da | str32 db, then UTF-8 bytes.</summary>
    public readonly void WriteString(ReadOnlySpan<char> value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        WriteStringHeader(length);
        var span = _output.GetSpan(length);
        var written = Encoding.UTF8.GetBytes(value, span);
        _output.Advance(written);
    }

    /// <summary>A string whose UTF-8 bytes are already at hand (keys, channel names).</summary>
    public readonly void WriteStringUtf8(ReadOnlySpan<byte> utf8)
    {
        WriteStringHeader(utf8.Length);
        _output.Write(utf8);
    }

    public readonly void WriteStringHeader(int length)
    {
        var span = _output.GetSpan(5);
        if (length < 0x20)
        {
            span[0] = (byte)(0xa0 | length);
            _output.Advance(1);
        }
        else if (length <= byte.MaxValue)
        {
            span[0] = 0xd9;
            span[1] = (byte)length;
            _output.Advance(2);
        }
        else if (length <= ushort.MaxValue)
        {
            span[0] = 0xda;
            BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)length);
            _output.Advance(3);
        }
        else
        {
            span[0] = 0xdb;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)length);
            _output.Advance(5);
        }
    }

    /// <summary>bin8 c4 | bin16 c5 | bin32 c6, then the bytes (notepack: Buffer, ArrayBuffer, TypedArray).</summary>
    public readonly void WriteBinary(ReadOnlySpan<byte> value)
    {
        var span = _output.GetSpan(5);
        if (value.Length <= byte.MaxValue)
        {
            span[0] = 0xc4;
            span[1] = (byte)value.Length;
            _output.Advance(2);
        }
        else if (value.Length <= ushort.MaxValue)
        {
            span[0] = 0xc5;
            BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)value.Length);
            _output.Advance(3);
        }
        else
        {
            span[0] = 0xc6;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)value.Length);
            _output.Advance(5);
        }
        _output.Write(value);
    }

    /// <summary>fixarray 1001xxxx | array16 dc | array32 dd.</summary>
    public readonly void WriteArrayHeader(int count) => WriteContainerHeader(count, 0x90, 0xdc);

    /// <summary>fixmap 1000xxxx | map16 de | map32 df.</summary>
    public readonly void WriteMapHeader(int count) => WriteContainerHeader(count, 0x80, 0xde);

    /// <summary>
    /// A JS Date as notepack writes it: timestamp32 <c>d6 ff</c> when whole seconds fit in 32 bits, timestamp64
    /// <c>d7 ff</c> (ns in the top 30 bits) up to 2^34 s, else timestamp96 <c>c7 0c ff</c>. JS dates have
    /// millisecond precision, so the value is truncated to milliseconds first.
    /// </summary>
    public readonly void WriteTimestamp(DateTimeOffset value)
    {
        var ms = value.ToUnixTimeMilliseconds();
        var s = Math.DivRem(ms, 1000, out var msRem);
        if (msRem < 0)
        {
            s--;
            msRem += 1000;
        }
        var ns = (uint)(msRem * 1_000_000);
        var span = _output.GetSpan(15);
        if (s >= 0 && s <= 0x3_ffff_ffffL)
        {
            if (ns == 0 && s <= uint.MaxValue)
            {
                span[0] = 0xd6;
                span[1] = 0xff;
                BinaryPrimitives.WriteUInt32BigEndian(span[2..], (uint)s);
                _output.Advance(6);
            }
            else
            {
                span[0] = 0xd7;
                span[1] = 0xff;
                BinaryPrimitives.WriteUInt64BigEndian(span[2..], ((ulong)ns << 34) | (ulong)s);
                _output.Advance(10);
            }
        }
        else
        {
            span[0] = 0xc7;
            span[1] = 12;
            span[2] = 0xff;
            BinaryPrimitives.WriteUInt32BigEndian(span[3..], ns);
            BinaryPrimitives.WriteInt64BigEndian(span[7..], s);
            _output.Advance(15);
        }
    }

    /// <summary>Raw, already-encoded msgpack (an encode-once broadcast fragment).</summary>
    public readonly void WriteRaw(ReadOnlySpan<byte> msgpack) => _output.Write(msgpack);

    private readonly void WriteContainerHeader(int count, byte fix, byte code16)
    {
        var span = _output.GetSpan(5);
        if (count < 0x10)
        {
            span[0] = (byte)(fix | count);
            _output.Advance(1);
        }
        else if (count <= ushort.MaxValue)
        {
            span[0] = code16;
            BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)count);
            _output.Advance(3);
        }
        else
        {
            span[0] = (byte)(code16 + 1);
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)count);
            _output.Advance(5);
        }
    }

    private readonly void WriteByte(byte value)
    {
        _output.GetSpan(1)[0] = value;
        _output.Advance(1);
    }
}

using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace Parley.MessagePack;

/// <summary>
/// Reads msgpack leniently: everything notepack.io 3.0.1 (<c>lib/decode.js</c>) and @msgpack/msgpack write, including
/// float32, ext types, timestamp ext −1 and notepack's legacy ext 0 forms (<c>d4 00 00</c> = undefined,
/// <c>c7/c8/c9 .. 00</c> = ArrayBuffer, <c>d7 00</c> = date in ms).
/// Safe on hostile input: every length is checked against the bytes left before anything is sliced or allocated
/// (a container of n items needs at least n bytes, a map 2n), recursive operations stop at <see cref="MaxDepth"/>,
/// and every failure is a <see cref="MessagePackFormatException"/>.
/// Spec: https://github.com/msgpack/msgpack/blob/master/spec.md
/// </summary>
internal ref struct MessagePackReader
{
    /// <summary>The default nesting limit of recursive reads (<see cref="Skip()"/>, the JSON conversion).</summary>
    public const int DefaultMaxDepth = 64;

    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;

    public MessagePackReader(ReadOnlySpan<byte> buffer, int maxDepth = DefaultMaxDepth)
    {
        _buffer = buffer;
        _position = 0;
        MaxDepth = maxDepth;
    }

    public int MaxDepth { get; }

    public readonly int Position => _position;

    public readonly bool End => _position >= _buffer.Length;

    public readonly int Remaining => _buffer.Length - _position;

    /// <summary>notepack's <c>decode</c> rejects trailing bytes; so do we when the caller asks.</summary>
    public readonly void EnsureEnd()
    {
        if (_position != _buffer.Length)
        {
            ThrowHelper.Format($"{_buffer.Length - _position} trailing bytes after the msgpack value");
        }
    }

    public readonly MessagePackType NextType
    {
        get
        {
            var code = Peek();
            switch (code)
            {
                case <= 0x7f:
                case >= 0xe0:
                case >= 0xcc and <= 0xd3:
                    return MessagePackType.Integer;
                case <= 0x8f:
                case 0xde:
                case 0xdf:
                    return MessagePackType.Map;
                case <= 0x9f:
                case 0xdc:
                case 0xdd:
                    return MessagePackType.Array;
                case <= 0xbf:
                case >= 0xd9 and <= 0xdb:
                    return MessagePackType.String;
                case 0xc0:
                    return MessagePackType.Nil;
                case 0xc2:
                case 0xc3:
                    return MessagePackType.Boolean;
                case >= 0xc4 and <= 0xc6:
                    return MessagePackType.Binary;
                case 0xca:
                case 0xcb:
                    return MessagePackType.Float;
                case >= 0xc7 and <= 0xc9:
                    {
                        var (_, type, headerSize) = PeekExtHeader();
                        _ = headerSize;
                        return type switch
                        {
                            0 => MessagePackType.Binary,
                            -1 when code == 0xc7 => MessagePackType.Timestamp,
                            _ => MessagePackType.Extension,
                        };
                    }
                case 0xd4:
                    return PeekExtType() == 0 ? MessagePackType.Undefined : MessagePackType.Extension;
                case 0xd6:
                case 0xd7:
                    {
                        var type = PeekExtType();
                        return type == -1 || (type == 0 && code == 0xd7) ? MessagePackType.Timestamp : MessagePackType.Extension;
                    }
                case 0xd5:
                case 0xd8:
                    return MessagePackType.Extension;
                default:
                    ThrowHelper.UnexpectedCode(_position, code, "a msgpack code (0xc1 is never used)");
                    return default;
            }
        }
    }

    /// <summary>Consumes nil (<c>c0</c>) or notepack's undefined (<c>d4 00 00</c>) and returns true, else false.</summary>
    public bool TryReadNil()
    {
        var code = Peek();
        if (code == 0xc0)
        {
            _position++;
            return true;
        }
        if (code == 0xd4 && PeekExtType() == 0)
        {
            Need(3);
            _position += 3;
            return true;
        }
        return false;
    }

    public bool ReadBoolean()
    {
        var code = Peek();
        if (code is not (0xc2 or 0xc3))
        {
            ThrowHelper.UnexpectedCode(_position, code, "a boolean");
        }
        _position++;
        return code == 0xc3;
    }

    public long ReadInt64()
    {
        var start = _position;
        var code = ReadByte();
        switch (code)
        {
            case <= 0x7f:
                return code;
            case >= 0xe0:
                return (sbyte)code;
            case 0xcc:
                return ReadByte();
            case 0xcd:
                return BinaryPrimitives.ReadUInt16BigEndian(Take(2));
            case 0xce:
                return BinaryPrimitives.ReadUInt32BigEndian(Take(4));
            case 0xcf:
                var u = BinaryPrimitives.ReadUInt64BigEndian(Take(8));
                if (u > long.MaxValue)
                {
                    ThrowHelper.Format($"uint64 {u} at offset {start} does not fit in an int64");
                }
                return (long)u;
            case 0xd0:
                return (sbyte)ReadByte();
            case 0xd1:
                return BinaryPrimitives.ReadInt16BigEndian(Take(2));
            case 0xd2:
                return BinaryPrimitives.ReadInt32BigEndian(Take(4));
            case 0xd3:
                return BinaryPrimitives.ReadInt64BigEndian(Take(8));
            default:
                _position = start;
                ThrowHelper.UnexpectedCode(start, code, "an integer");
                return 0;
        }
    }

    /// <summary>Reads any integer; a uint64 above <see cref="long.MaxValue"/> comes back as <paramref name="unsigned"/>.</summary>
    public bool TryReadInteger(out long signed, out ulong unsigned)
    {
        if (Peek() == 0xcf)
        {
            Need(9);
            var u = BinaryPrimitives.ReadUInt64BigEndian(_buffer.Slice(_position + 1, 8));
            if (u > long.MaxValue)
            {
                _position += 9;
                signed = 0;
                unsigned = u;
                return false;
            }
        }
        signed = ReadInt64();
        unsigned = 0;
        return true;
    }

    /// <summary>Reads float32 / float64, or an integer widened to a double (a JS number either way).</summary>
    public double ReadDouble()
    {
        var code = Peek();
        if (code == 0xcb)
        {
            _position++;
            return BinaryPrimitives.ReadDoubleBigEndian(Take(8));
        }
        if (code == 0xca)
        {
            _position++;
            return BinaryPrimitives.ReadSingleBigEndian(Take(4));
        }
        if (TryReadInteger(out var signed, out var unsigned))
        {
            return signed;
        }
        return unsigned;
    }

    /// <summary>The raw UTF-8 bytes of a string, sliced from the input (valid until the input is released).</summary>
    public ReadOnlySpan<byte> ReadStringUtf8()
    {
        var start = _position;
        var code = ReadByte();
        int length;
        switch (code)
        {
            case >= 0xa0 and <= 0xbf:
                length = code & 0x1f;
                break;
            case 0xd9:
                length = ReadByte();
                break;
            case 0xda:
                length = BinaryPrimitives.ReadUInt16BigEndian(Take(2));
                break;
            case 0xdb:
                length = CheckedLength(BinaryPrimitives.ReadUInt32BigEndian(Take(4)));
                break;
            default:
                _position = start;
                ThrowHelper.UnexpectedCode(start, code, "a string");
                return default;
        }
        return Take(length);
    }

    /// <summary>
    /// A string; invalid UTF-8 becomes U+FFFD like Node's <c>buffer.toString('utf8')</c> rather than failing.
    /// </summary>
    public string ReadString() => Encoding.UTF8.GetString(ReadStringUtf8());

    /// <summary>bin8/16/32, or notepack's legacy ArrayBuffer form (ext type 0 with c7/c8/c9).</summary>
    public ReadOnlySpan<byte> ReadBinary()
    {
        var start = _position;
        var code = ReadByte();
        switch (code)
        {
            case 0xc4:
                return Take(ReadByte());
            case 0xc5:
                return Take(BinaryPrimitives.ReadUInt16BigEndian(Take(2)));
            case 0xc6:
                return Take(CheckedLength(BinaryPrimitives.ReadUInt32BigEndian(Take(4))));
            case >= 0xc7 and <= 0xc9:
                _position = start;
                var (length, type, headerSize) = PeekExtHeader();
                if (type == 0)
                {
                    _position += headerSize;
                    return Take(length);
                }
                break;
        }
        _position = start;
        ThrowHelper.UnexpectedCode(start, code, "binary");
        return default;
    }

    public int ReadArrayHeader()
    {
        var start = _position;
        var code = ReadByte();
        long count = code switch
        {
            >= 0x90 and <= 0x9f => code & 0x0f,
            0xdc => BinaryPrimitives.ReadUInt16BigEndian(Take(2)),
            0xdd => BinaryPrimitives.ReadUInt32BigEndian(Take(4)),
            _ => -1,
        };
        if (count < 0)
        {
            _position = start;
            ThrowHelper.UnexpectedCode(start, code, "an array");
        }
        // Each element takes at least one byte: a forged count cannot make a caller pre-size a huge list.
        if (count > Remaining)
        {
            ThrowHelper.TooLong(start, (ulong)count);
        }
        return (int)count;
    }

    public int ReadMapHeader()
    {
        var start = _position;
        var code = ReadByte();
        long count = code switch
        {
            >= 0x80 and <= 0x8f => code & 0x0f,
            0xde => BinaryPrimitives.ReadUInt16BigEndian(Take(2)),
            0xdf => BinaryPrimitives.ReadUInt32BigEndian(Take(4)),
            _ => -1,
        };
        if (count < 0)
        {
            _position = start;
            ThrowHelper.UnexpectedCode(start, code, "a map");
        }
        if (count * 2 > Remaining)
        {
            ThrowHelper.TooLong(start, (ulong)count);
        }
        return (int)count;
    }

    /// <summary>An ext value: its type and its data bytes.</summary>
    public ReadOnlySpan<byte> ReadExtension(out sbyte type)
    {
        var start = _position;
        var code = Peek();
        int length;
        int headerSize;
        switch (code)
        {
            case 0xd4:
            case 0xd5:
            case 0xd6:
            case 0xd7:
            case 0xd8:
                length = 1 << (code - 0xd4);
                headerSize = 2;
                type = PeekExtType();
                break;
            case >= 0xc7 and <= 0xc9:
                (length, type, headerSize) = PeekExtHeader();
                break;
            default:
                ThrowHelper.UnexpectedCode(start, code, "an extension");
                type = 0;
                return default;
        }
        _position += headerSize;
        return Take(length);
    }

    /// <summary>Timestamp ext −1 (32, 64 and 96-bit forms) or notepack's legacy <c>d7 00</c> (ms since the epoch).</summary>
    public DateTime ReadTimestamp()
    {
        var start = _position;
        var data = ReadExtension(out var type);
        try
        {
            if (type == -1)
            {
                switch (data.Length)
                {
                    case 4:
                        return DateTime.UnixEpoch.AddSeconds(BinaryPrimitives.ReadUInt32BigEndian(data));
                    case 8:
                        var v = BinaryPrimitives.ReadUInt64BigEndian(data);
                        return DateTime.UnixEpoch.AddSeconds((long)(v & 0x3_ffff_ffffUL)).AddTicks((long)(v >> 34) / 100);
                    case 12:
                        var ns = BinaryPrimitives.ReadUInt32BigEndian(data);
                        var s = BinaryPrimitives.ReadInt64BigEndian(data[4..]);
                        return DateTime.UnixEpoch.AddSeconds(s).AddTicks(ns / 100);
                }
            }
            else if (type == 0 && data.Length == 8)
            {
                return DateTime.UnixEpoch.AddMilliseconds(BinaryPrimitives.ReadInt64BigEndian(data));
            }
        }
        catch (ArgumentOutOfRangeException e)
        {
            // Outside DateTime's years 1..9999: a well-formed timestamp .NET cannot hold.
            throw new MessagePackFormatException($"timestamp at offset {start} is out of DateTime's range", e);
        }
        _position = start;
        ThrowHelper.Format($"ext type {type} of {data.Length} bytes at offset {start} is not a timestamp");
        return default;
    }

    /// <summary>Skips one value of any type, however nested (up to <see cref="MaxDepth"/>).</summary>
    public void Skip() => Skip(0);

    internal void Skip(int depth)
    {
        switch (NextType)
        {
            case MessagePackType.Array:
                if (depth >= MaxDepth)
                {
                    ThrowHelper.TooDeep(MaxDepth);
                }
                for (var n = ReadArrayHeader(); n > 0; n--)
                {
                    Skip(depth + 1);
                }
                break;
            case MessagePackType.Map:
                if (depth >= MaxDepth)
                {
                    ThrowHelper.TooDeep(MaxDepth);
                }
                for (var n = ReadMapHeader() * 2; n > 0; n--)
                {
                    Skip(depth + 1);
                }
                break;
            case MessagePackType.Nil:
            case MessagePackType.Boolean:
                _position++;
                break;
            case MessagePackType.Integer:
                ReadInt64OrUInt64();
                break;
            case MessagePackType.Float:
                ReadDouble();
                break;
            case MessagePackType.String:
                ReadStringUtf8();
                break;
            case MessagePackType.Binary:
                ReadBinary();
                break;
            default:
                ReadExtension(out _);
                break;
        }
    }

    /// <summary>A copy of this reader positioned at <paramref name="position"/> (an earlier position of the same input).</summary>
    internal readonly MessagePackReader Rewind(int position)
    {
        var copy = this;
        copy._position = position;
        return copy;
    }

    private void ReadInt64OrUInt64() => TryReadInteger(out _, out _);

    private readonly byte Peek()
    {
        if (_position >= _buffer.Length)
        {
            ThrowHelper.Truncated(_position);
        }
        return _buffer[_position];
    }

    private readonly sbyte PeekExtType()
    {
        if (_position + 1 >= _buffer.Length)
        {
            ThrowHelper.Truncated(_buffer.Length);
        }
        return (sbyte)_buffer[_position + 1];
    }

    /// <summary>ext8 c7 len type | ext16 c8 len16 type | ext32 c9 len32 type.</summary>
    private readonly (int Length, sbyte Type, int HeaderSize) PeekExtHeader()
    {
        var code = _buffer[_position];
        var lengthSize = code == 0xc7 ? 1 : code == 0xc8 ? 2 : 4;
        if (_position + 1 + lengthSize >= _buffer.Length)
        {
            ThrowHelper.Truncated(_buffer.Length);
        }
        var lengthBytes = _buffer.Slice(_position + 1, lengthSize);
        long length = lengthSize switch
        {
            1 => lengthBytes[0],
            2 => BinaryPrimitives.ReadUInt16BigEndian(lengthBytes),
            _ => BinaryPrimitives.ReadUInt32BigEndian(lengthBytes),
        };
        var type = (sbyte)_buffer[_position + 1 + lengthSize];
        var headerSize = 2 + lengthSize;
        if (length > _buffer.Length - _position - headerSize)
        {
            ThrowHelper.TooLong(_position, (ulong)length);
        }
        return ((int)length, type, headerSize);
    }

    private byte ReadByte()
    {
        var b = Peek();
        _position++;
        return b;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> Take(int length)
    {
        if (length > _buffer.Length - _position)
        {
            ThrowHelper.TooLong(_position, (ulong)length);
        }
        var span = _buffer.Slice(_position, length);
        _position += length;
        return span;
    }

    private readonly void Need(int length)
    {
        if (length > _buffer.Length - _position)
        {
            ThrowHelper.Truncated(_buffer.Length);
        }
    }

    private readonly int CheckedLength(uint length)
    {
        if (length > (uint)(_buffer.Length - _position))
        {
            ThrowHelper.TooLong(_position, length);
        }
        return (int)length;
    }
}

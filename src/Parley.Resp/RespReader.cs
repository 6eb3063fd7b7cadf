using System.Buffers;
using System.Buffers.Text;

namespace Parley.Resp;

/// <summary>
/// Scans RESP2 (and, leniently, RESP3) replies out of a <see cref="ReadOnlySequence{T}"/>.
/// Spec: https://redis.io/docs/latest/develop/reference/protocol-spec/ (RESP2) and
/// https://github.com/redis/redis-specifications/blob/master/protocol/RESP3.md.
/// <para>
/// Like RESPite's scanner, a partial frame is "need more data" (false, nothing consumed), never an exception; and
/// nothing is allocated until the whole frame has arrived: a first pass only checks that the frame is complete and
/// well-formed, the second builds the value. So a forged <c>*2147483647</c> costs nothing but a wait, bounded by
/// <see cref="MaxAggregateLength"/>. Malformed input fails with <see cref="RespProtocolException"/>.
/// </para>
/// </summary>
internal static class RespReader
{
    /// <summary>Redis's own default <c>proto-max-bulk-len</c>.</summary>
    public const long MaxBulkLength = 512L * 1024 * 1024;

    public const int MaxAggregateLength = 64 * 1024 * 1024;

    /// <summary>A simple string or number line longer than this without CRLF is garbage, not a slow reply.</summary>
    public const int MaxLineLength = 64 * 1024;

    public const int MaxDepth = 64;

    private static ReadOnlySpan<byte> CrLf => "\r\n"u8;

    /// <summary>
    /// Reads one complete reply from the start of <paramref name="buffer"/> and slices it off; returns false (and
    /// leaves the buffer alone) when the reply is not complete yet.
    /// </summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, out RespValue value)
    {
        var scan = new SequenceReader<byte>(buffer);
        if (!Read(ref scan, 0, build: false, out _))
        {
            value = default;
            return false;
        }
        var end = scan.Position;
        var parse = new SequenceReader<byte>(buffer.Slice(0, end));
        Read(ref parse, 0, build: true, out value);
        buffer = buffer.Slice(end);
        return true;
    }

    private static bool Read(ref SequenceReader<byte> reader, int depth, bool build, out RespValue value)
    {
        value = default;
        if (!reader.TryRead(out var prefix))
        {
            return false;
        }
        switch (prefix)
        {
            case (byte)'+':
            case (byte)'-':
            case (byte)',':
            case (byte)'(':
                {
                    if (!TryReadLine(ref reader, out var line))
                    {
                        return false;
                    }
                    if (build)
                    {
                        var type = prefix switch
                        {
                            (byte)'+' => RespType.SimpleString,
                            (byte)'-' => RespType.Error,
                            (byte)',' => RespType.Double,
                            _ => RespType.BigNumber,
                        };
                        value = RespValue.FromBytes(type, line.ToArray());
                    }
                    return true;
                }
            case (byte)':':
                {
                    if (!TryReadInteger(ref reader, out var integer))
                    {
                        return false;
                    }
                    value = RespValue.FromInteger(integer);
                    return true;
                }
            case (byte)'_':
                {
                    if (!TryReadLine(ref reader, out var line))
                    {
                        return false;
                    }
                    if (line.Length != 0)
                    {
                        throw new RespProtocolException("RESP3 null carries data");
                    }
                    value = RespValue.Null;
                    return true;
                }
            case (byte)'#':
                {
                    if (!TryReadLine(ref reader, out var line))
                    {
                        return false;
                    }
                    var b = line.Length == 1 ? line.FirstSpan[0] : (byte)0;
                    if (b is not ((byte)'t' or (byte)'f'))
                    {
                        throw new RespProtocolException("RESP3 boolean is not t or f");
                    }
                    value = RespValue.FromBoolean(b == (byte)'t');
                    return true;
                }
            case (byte)'$':
            case (byte)'=':
            case (byte)'!':
                {
                    if (!TryReadInteger(ref reader, out var length))
                    {
                        return false;
                    }
                    if (length == -1 && prefix == (byte)'$')
                    {
                        value = RespValue.Null;
                        return true;
                    }
                    if (length < 0 || length > MaxBulkLength)
                    {
                        throw new RespProtocolException($"bulk length {length} is out of range");
                    }
                    if (reader.Remaining < length + 2)
                    {
                        return false;
                    }
                    var body = reader.UnreadSequence.Slice(0, length);
                    reader.Advance(length);
                    if (!reader.IsNext(CrLf, advancePast: true))
                    {
                        throw new RespProtocolException("bulk string is not followed by CRLF");
                    }
                    if (build)
                    {
                        var type = prefix switch
                        {
                            (byte)'$' => RespType.BulkString,
                            (byte)'=' => RespType.VerbatimString,
                            _ => RespType.Error,
                        };
                        value = RespValue.FromBytes(type, body.ToArray());
                    }
                    return true;
                }
            case (byte)'*':
            case (byte)'~':
            case (byte)'>':
            case (byte)'%':
                {
                    if (!TryReadInteger(ref reader, out var count))
                    {
                        return false;
                    }
                    if (count == -1 && prefix == (byte)'*')
                    {
                        value = RespValue.Null;
                        return true;
                    }
                    if (prefix == (byte)'%')
                    {
                        count *= 2;
                    }
                    if (count < 0 || count > MaxAggregateLength)
                    {
                        throw new RespProtocolException($"aggregate length {count} is out of range");
                    }
                    if (depth >= MaxDepth)
                    {
                        throw new RespProtocolException($"reply nesting is deeper than {MaxDepth}");
                    }
                    // Every item takes at least 3 bytes ("_\r\n"): if they cannot all be here, wait.
                    if (reader.Remaining < count * 3)
                    {
                        return false;
                    }
                    var items = build ? new RespValue[count] : null;
                    for (var i = 0; i < count; i++)
                    {
                        if (!Read(ref reader, depth + 1, build, out var item))
                        {
                            return false;
                        }
                        if (items is not null)
                        {
                            items[i] = item;
                        }
                    }
                    if (items is not null)
                    {
                        var type = prefix switch
                        {
                            (byte)'*' => RespType.Array,
                            (byte)'~' => RespType.Set,
                            (byte)'>' => RespType.Push,
                            _ => RespType.Map,
                        };
                        value = RespValue.FromItems(type, items);
                    }
                    return true;
                }
            default:
                throw new RespProtocolException($"unknown RESP type byte 0x{prefix:x2}");
        }
    }

    private static bool TryReadLine(ref SequenceReader<byte> reader, out ReadOnlySequence<byte> line)
    {
        if (reader.TryReadTo(out line, CrLf, advancePastDelimiter: true))
        {
            if (line.Length > MaxLineLength)
            {
                throw new RespProtocolException("RESP line is too long");
            }
            return true;
        }
        if (reader.Remaining > MaxLineLength)
        {
            throw new RespProtocolException("RESP line is too long");
        }
        return false;
    }

    private static bool TryReadInteger(ref SequenceReader<byte> reader, out long value)
    {
        value = 0;
        if (!TryReadLine(ref reader, out var line))
        {
            return false;
        }
        Span<byte> digits = stackalloc byte[20];
        if (line.Length is 0 or > 20)
        {
            throw new RespProtocolException("RESP integer has a bad length");
        }
        line.CopyTo(digits);
        var text = digits[..(int)line.Length];
        if (!Utf8Parser.TryParse(text, out value, out var consumed) || consumed != text.Length || text[0] == (byte)'+')
        {
            throw new RespProtocolException("RESP integer is not a number");
        }
        return true;
    }
}

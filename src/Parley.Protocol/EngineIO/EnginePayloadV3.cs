using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Unicode;

namespace Parley.Protocol.EngineIO;

/// <summary>
/// The HTTP long-polling payload of Engine.IO v3 (socket.io-client 2.x), in its two forms
/// (engine.io-parser 2.2 <c>lib/index.js</c>, the same in engine.io 6's <c>lib/parser-v3</c>):
/// <list type="bullet">
/// <item>text, when the client cannot take binary (<c>b64=1</c>) or nothing is binary: each packet is
/// <c>&lt;length&gt;:&lt;packet&gt;</c>, the length counted in UTF-16 code units as JavaScript's
/// <c>string.length</c>; a binary message is written as <c>b4</c> + base64; an empty payload is <c>0:</c>;</item>
/// <item>binary (<c>application/octet-stream</c>), when the client takes binary and a packet is binary: each packet
/// is a marker byte (0 string, 1 binary), the decimal digits of its length as bytes 0–9, <c>0xFF</c>, then the
/// packet: a text packet's UTF-8 (length in bytes), or a binary message as its type byte 4 and the data.</item>
/// </list>
/// </summary>
public static class EnginePayloadV3
{
    /// <summary>JavaScript's longest number has 310 digits (<c>Number.MAX_VALUE</c>); engine.io-parser refuses more.</summary>
    private const int MaxLengthDigits = 310;

    /// <summary>Whether <see cref="Write"/> produces the binary form (<c>application/octet-stream</c>).</summary>
    public static bool IsBinaryPayload(IReadOnlyList<EnginePacket> packets, bool supportsBinary)
    {
        ArgumentNullException.ThrowIfNull(packets);
        if (!supportsBinary)
        {
            return false;
        }
        foreach (var packet in packets)
        {
            if (packet.IsBinary)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Writes <paramref name="packets"/> as one payload, binary when <see cref="IsBinaryPayload"/> says so.</summary>
    public static void Write(IBufferWriter<byte> output, IReadOnlyList<EnginePacket> packets, bool supportsBinary)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (IsBinaryPayload(packets, supportsBinary))
        {
            foreach (var packet in packets)
            {
                WriteBinaryForm(output, packet);
            }
            return;
        }
        if (packets.Count == 0)
        {
            output.Write("0:"u8);
            return;
        }
        foreach (var packet in packets)
        {
            WriteTextForm(output, packet);
        }
    }

    private static void WriteTextForm(IBufferWriter<byte> output, EnginePacket packet)
    {
        var frame = packet.Frame.Span;
        if (packet.IsBinary)
        {
            var base64Length = Base64.GetMaxEncodedToUtf8Length(frame.Length);
            WriteDecimal(output, 2 + base64Length);
            var span = output.GetSpan(3 + base64Length);
            span[0] = (byte)':';
            span[1] = (byte)'b';
            span[2] = (byte)'4';
            Base64.EncodeToUtf8(frame, span[3..], out _, out var written);
            output.Advance(3 + written);
            return;
        }
        WriteDecimal(output, Utf16Length(frame));
        output.GetSpan(1)[0] = (byte)':';
        output.Advance(1);
        output.Write(frame);
    }

    private static void WriteBinaryForm(IBufferWriter<byte> output, EnginePacket packet)
    {
        var frame = packet.Frame.Span;
        var length = packet.IsBinary ? frame.Length + 1 : frame.Length;
        Span<byte> digits = stackalloc byte[10];
        length.TryFormat(digits, out var count, provider: System.Globalization.CultureInfo.InvariantCulture);
        var header = output.GetSpan(count + 2);
        header[0] = packet.IsBinary ? (byte)1 : (byte)0;
        for (var i = 0; i < count; i++)
        {
            header[i + 1] = (byte)(digits[i] - '0');
        }
        header[count + 1] = 0xFF;
        output.Advance(count + 2);
        if (packet.IsBinary)
        {
            output.GetSpan(1)[0] = (byte)EnginePacketType.Message;
            output.Advance(1);
        }
        output.Write(frame);
    }

    private static void WriteDecimal(IBufferWriter<byte> output, int value)
    {
        var span = output.GetSpan(10);
        value.TryFormat(span, out var written, provider: System.Globalization.CultureInfo.InvariantCulture);
        output.Advance(written);
    }

    /// <summary>
    /// The number of UTF-16 code units of valid UTF-8 <paramref name="utf8"/>: what JavaScript's <c>length</c> says of
    /// the same string (a character outside the BMP counts two).
    /// </summary>
    public static int Utf16Length(ReadOnlySpan<byte> utf8) => Encoding.UTF8.GetCharCount(utf8);

    /// <summary>
    /// Splits a payload into packets and hands each to <paramref name="onPacket"/>, in order, as
    /// <see cref="EnginePayload.TryRead"/> does for v4. <paramref name="isBinaryPayload"/> is true for a request body
    /// of type <c>application/octet-stream</c>. Returns false at the first malformed part (engine.io-parser then
    /// drops the payload with a "parser error"); the packets before it have been delivered.
    /// </summary>
    public static bool TryRead<TState>(ReadOnlySpan<byte> payload, bool isBinaryPayload, TState state, EnginePayloadCallback<TState> onPacket)
    {
        ArgumentNullException.ThrowIfNull(onPacket);
        return isBinaryPayload ? TryReadBinaryForm(payload, state, onPacket) : TryReadTextForm(payload, state, onPacket);
    }

    private static bool TryReadTextForm<TState>(ReadOnlySpan<byte> payload, TState state, EnginePayloadCallback<TState> onPacket)
    {
        if (payload.IsEmpty)
        {
            return false;
        }
        byte[]? rented = null;
        try
        {
            while (!payload.IsEmpty)
            {
                var colon = payload.IndexOf((byte)':');
                if (colon <= 0 || colon > MaxLengthDigits || !TryParseDecimal(payload[..colon], out var units))
                {
                    return false;
                }
                payload = payload[(colon + 1)..];
                if (!TryTakeUtf16Units(payload, units, out var byteCount))
                {
                    return false;
                }
                var part = payload[..byteCount];
                payload = payload[byteCount..];
                if (part.IsEmpty)
                {
                    continue;
                }
                if (!TryReadTextPacket(part, ref rented, out var type, out var isBinary, out var data))
                {
                    return false;
                }
                if (!onPacket(state, type, isBinary, data))
                {
                    return true;
                }
            }
            return true;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// Reads one v3 packet sent as text, a part of a text payload or a WebSocket text message: a packet as in v4, or
    /// <c>b</c> + type digit + base64 for binary from a client without binary support (engine.io-parser 2.2
    /// <c>decodeBase64Packet</c>). Returns false when it is malformed.
    /// </summary>
    public static bool TryReadTextFrame<TState>(ReadOnlySpan<byte> frame, TState state, EnginePayloadCallback<TState> onPacket)
    {
        ArgumentNullException.ThrowIfNull(onPacket);
        byte[]? rented = null;
        try
        {
            if (!TryReadTextPacket(frame, ref rented, out var type, out var isBinary, out var data))
            {
                return false;
            }
            onPacket(state, type, isBinary, data);
            return true;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static bool TryReadTextPacket(ReadOnlySpan<byte> part, ref byte[]? rented, out EnginePacketType type, out bool isBinary, out ReadOnlySpan<byte> data)
    {
        if (!part.IsEmpty && part[0] == (byte)'b')
        {
            isBinary = true;
            if (part.Length < 2 || !EngineFrame.TryParseText(part[1..], out type, out var base64))
            {
                type = default;
                data = default;
                return false;
            }
            return EnginePayload.TryDecodeBase64(base64, ref rented, out data);
        }
        isBinary = false;
        return EngineFrame.TryParseText(part, out type, out data);
    }

    private static bool TryReadBinaryForm<TState>(ReadOnlySpan<byte> payload, TState state, EnginePayloadCallback<TState> onPacket)
    {
        while (!payload.IsEmpty)
        {
            var isString = payload[0] switch
            {
                0 => true,
                1 => false,
                _ => (bool?)null,
            };
            if (isString is null)
            {
                return false;
            }
            var end = payload.IndexOf((byte)0xFF);
            if (end <= 1 || end - 1 > MaxLengthDigits)
            {
                return false;
            }
            long length = 0;
            foreach (var digit in payload[1..end])
            {
                if (digit > 9)
                {
                    return false;
                }
                length = (length * 10) + digit;
                if (length > payload.Length)
                {
                    return false;
                }
            }
            payload = payload[(end + 1)..];
            if (length > payload.Length)
            {
                return false;
            }
            var part = payload[..(int)length];
            payload = payload[(int)length..];
            bool keepGoing;
            if (isString.Value)
            {
                if (!EngineFrame.TryParseText(part, out var type, out var data) || !Utf8.IsValid(data))
                {
                    return false;
                }
                keepGoing = onPacket(state, type, isBinary: false, data);
            }
            else
            {
                if (!TryReadBinaryFrame(part, out var type, out var data))
                {
                    return false;
                }
                keepGoing = onPacket(state, type, isBinary: true, data);
            }
            if (!keepGoing)
            {
                return true;
            }
        }
        return true;
    }

    /// <summary>
    /// Reads a v3 binary packet: its type as a byte (not a digit) followed by the data. A v3 client sends binary
    /// WebSocket messages this way too (engine.io-parser 2.2 <c>encodeBuffer</c>).
    /// </summary>
    public static bool TryReadBinaryFrame(ReadOnlySpan<byte> frame, out EnginePacketType type, out ReadOnlySpan<byte> data)
    {
        if (frame.IsEmpty || frame[0] > (byte)EnginePacketType.Noop)
        {
            type = default;
            data = default;
            return false;
        }
        type = (EnginePacketType)frame[0];
        data = frame[1..];
        return true;
    }

    private static bool TryParseDecimal(ReadOnlySpan<byte> digits, out int value)
    {
        value = 0;
        foreach (var digit in digits)
        {
            if (digit is < (byte)'0' or > (byte)'9' || value > (int.MaxValue - 9) / 10)
            {
                return false;
            }
            value = (value * 10) + (digit - '0');
        }
        return true;
    }

    /// <summary>How many bytes of UTF-8 <paramref name="utf8"/> make <paramref name="units"/> UTF-16 code units.</summary>
    private static bool TryTakeUtf16Units(ReadOnlySpan<byte> utf8, int units, out int byteCount)
    {
        // ASCII is one unit per byte: most packets, and all of base64, are read without decoding a rune at a time.
        var candidate = utf8[..Math.Min(units, utf8.Length)];
        var ascii = candidate.IndexOfAnyExceptInRange((byte)0, (byte)0x7F);
        byteCount = ascii < 0 ? candidate.Length : ascii;
        units -= byteCount;
        while (units > 0)
        {
            if (byteCount >= utf8.Length)
            {
                return false;
            }
            if (Rune.DecodeFromUtf8(utf8[byteCount..], out var rune, out var consumed) != OperationStatus.Done)
            {
                return false;
            }
            var needed = rune.Utf16SequenceLength;
            if (needed > units)
            {
                // The length ends inside a surrogate pair: no JavaScript string splits there.
                return false;
            }
            units -= needed;
            byteCount += consumed;
        }
        return true;
    }
}

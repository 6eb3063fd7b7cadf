using System.Buffers;
using System.Buffers.Text;

namespace Parley.Protocol.EngineIO;

/// <summary>
/// The HTTP long-polling payload of Engine.IO v4: packets joined by the record separator <c>0x1e</c>, binary
/// messages written as <c>b</c> + base64.
/// See https://github.com/socketio/engine.io-protocol#http-long-polling-1 and engine.io-parser lib/index.ts
/// (encodePayload / decodePayload).
/// </summary>
public static class EnginePayload
{
    /// <summary>The record separator between packets.</summary>
    public const byte Separator = 0x1e;

    /// <summary>The number of bytes <see cref="Write"/> produces for <paramref name="packets"/>.</summary>
    public static int GetEncodedLength(IReadOnlyList<EnginePacket> packets)
    {
        var length = packets.Count == 0 ? 0 : packets.Count - 1;
        foreach (var packet in packets)
        {
            length += packet.IsBinary ? 1 + Base64.GetMaxEncodedToUtf8Length(packet.Frame.Length) : packet.Frame.Length;
        }
        return length;
    }

    /// <summary>Writes <paramref name="packets"/> as one polling payload.</summary>
    public static void Write(IBufferWriter<byte> output, IReadOnlyList<EnginePacket> packets)
    {
        for (var i = 0; i < packets.Count; i++)
        {
            if (i > 0)
            {
                output.GetSpan(1)[0] = Separator;
                output.Advance(1);
            }
            var packet = packets[i];
            var frame = packet.Frame.Span;
            if (!packet.IsBinary)
            {
                output.Write(frame);
                continue;
            }
            var size = 1 + Base64.GetMaxEncodedToUtf8Length(frame.Length);
            var span = output.GetSpan(size);
            span[0] = (byte)'b';
            Base64.EncodeToUtf8(frame, span[1..], out _, out var written);
            output.Advance(1 + written);
        }
    }

    /// <summary>
    /// Splits a polling payload into packets and hands each to <paramref name="onPacket"/>, in order. Stops at the
    /// first malformed packet, as engine.io-parser's decodePayload does, and returns false then; the packets before it
    /// have been delivered. <paramref name="onPacket"/> returns false to stop early (e.g. after a close packet).
    /// The data spans are only valid during the callback.
    /// </summary>
    public static bool TryRead<TState>(ReadOnlySpan<byte> payload, TState state, EnginePayloadCallback<TState> onPacket)
    {
        byte[]? rented = null;
        try
        {
            while (true)
            {
                var end = payload.IndexOf(Separator);
                var part = end < 0 ? payload : payload[..end];
                bool keepGoing;
                if (!part.IsEmpty && part[0] == (byte)'b')
                {
                    if (!TryDecodeBase64(part[1..], ref rented, out var bytes))
                    {
                        return false;
                    }
                    keepGoing = onPacket(state, EnginePacketType.Message, isBinary: true, bytes);
                }
                else if (EngineFrame.TryParseText(part, out var type, out var data))
                {
                    keepGoing = onPacket(state, type, isBinary: false, data);
                }
                else
                {
                    return false;
                }
                if (!keepGoing || end < 0)
                {
                    return true;
                }
                payload = payload[(end + 1)..];
            }
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
    /// Decodes the base64 of a binary message in a text payload into <paramref name="rented"/> (rented from the shared
    /// pool, or swapped for a larger one; the caller returns it once the payload is read).
    /// </summary>
    internal static bool TryDecodeBase64(ReadOnlySpan<byte> base64, ref byte[]? rented, out ReadOnlySpan<byte> bytes)
    {
        var max = Base64.GetMaxDecodedFromUtf8Length(base64.Length);
        if (rented is null || rented.Length < max)
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
            rented = ArrayPool<byte>.Shared.Rent(Math.Max(max, 256));
        }
        if (Base64.DecodeFromUtf8(base64, rented, out _, out var decoded) != OperationStatus.Done)
        {
            bytes = default;
            return false;
        }
        bytes = rented.AsSpan(0, decoded);
        return true;
    }
}

/// <summary>Receives one packet of a polling payload; returns false to stop reading.</summary>
public delegate bool EnginePayloadCallback<in TState>(TState state, EnginePacketType type, bool isBinary, ReadOnlySpan<byte> data);

/// <summary>Parsing of a single text frame (a WebSocket text message, or one packet of a polling payload).</summary>
public static class EngineFrame
{
    /// <summary>
    /// Reads the type digit of a text packet. Returns false for anything that is not <c>0</c>–<c>6</c>, which
    /// engine.io-parser decodes as an error packet ("parser error") and the server answers by closing.
    /// </summary>
    public static bool TryParseText(ReadOnlySpan<byte> frame, out EnginePacketType type, out ReadOnlySpan<byte> data)
    {
        if (frame.IsEmpty || frame[0] is < (byte)'0' or > (byte)'6')
        {
            type = default;
            data = default;
            return false;
        }
        type = (EnginePacketType)(frame[0] - '0');
        data = frame[1..];
        return true;
    }
}

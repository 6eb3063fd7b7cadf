using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Parley.Protocol.SocketIO;

public sealed partial class SocketPacketDecoder
{
    /// <summary>Event names a client may not use (lib/index.ts <c>RESERVED_EVENTS</c>).</summary>
    private static readonly byte[][] s_reservedEvents =
        ["connect"u8.ToArray(), "connect_error"u8.ToArray(), "disconnect"u8.ToArray(), "disconnecting"u8.ToArray(),
            "newListener"u8.ToArray(), "removeListener"u8.ToArray()];

    /// <summary>
    /// Mirrors lib/index.ts <c>decodeString</c> step by step, including its JavaScript quirks, which come from
    /// <c>Number(str.charAt(0))</c> and <c>Number(c) == c</c> treating whitespace as the number 0.
    /// <paramref name="text"/> is valid UTF-8.
    /// </summary>
    private SocketDecodeResult DecodeString(ReadOnlySpan<byte> text, out SocketPacket? packet)
    {
        packet = null;
        var pos = 0; // index of the next unread byte (upstream's i + 1)

        // Type: Number(charAt(0)). Quirk kept: "" and a lone whitespace character give 0, so "" decodes as CONNECT.
        SocketPacketType type;
        if (text.IsEmpty)
        {
            type = SocketPacketType.Connect;
        }
        else
        {
            var first = JsText.First(text, out var length);
            if (first.Value is >= '0' and <= '6')
            {
                type = (SocketPacketType)(first.Value - '0');
            }
            else if (JsText.IsWhiteSpace(first))
            {
                type = SocketPacketType.Connect;
            }
            else
            {
                var shown = first.Value is >= '7' and <= '9' ? ((char)first.Value).ToString() : "NaN";
                return Fail(SocketDecodeError.UnknownPacketType, "unknown packet type " + shown);
            }

            pos = length;
        }

        // Attachments: everything up to the first '-' must be Number()-parsable to an integer in
        // [1, maxAttachments]. Requiring the '-' is the 2015 infinite-loop fix (commit e77fc4c); n >= 1 is
        // socket.io-parser 4.2.7 (4.2.6 accepted 0 and then wedged the decoder in reconstruction mode).
        var attachments = 0;
        if (IsBinaryType(type))
        {
            var dash = text[pos..].IndexOf((byte)'-');
            if (dash < 0)
            {
                return Fail(SocketDecodeError.IllegalAttachments, "Illegal attachments");
            }

            var n = JsText.ToNumber(text.Slice(pos, dash));
            if (double.IsNaN(n) || double.IsInfinity(n) || n != Math.Floor(n) || n < 1)
            {
                return Fail(SocketDecodeError.IllegalAttachments, "Illegal attachments");
            }

            if (n > _maxAttachments)
            {
                return Fail(SocketDecodeError.TooManyAttachments, "too many attachments");
            }

            attachments = (int)n;
            pos += dash + 1;
        }

        // Namespace: from '/' to the first ',' (excluded) or the end, so "0/custom" is valid.
        var nsp = "/";
        if (pos < text.Length && text[pos] == (byte)'/')
        {
            var comma = text[pos..].IndexOf((byte)',');
            var end = comma < 0 ? text.Length : pos + comma;
            nsp = GetNamespace(text[pos..end]);
            pos = comma < 0 ? text.Length : end + 1;
        }

        // Ack id: a run of characters c with Number(c) == c, i.e. ASCII digits and JS whitespace, then
        // Number(run). Quirk kept: whitespace alone gives 0 ("2 [\"a\"]" has ack id 0). Divergence: a run that
        // Number() turns into NaN ("1 2") or a value beyond long is rejected instead of becoming NaN or a
        // rounded double.
        long? ackId = null;
        if (pos < text.Length)
        {
            var start = pos;
            while (pos < text.Length)
            {
                var rune = JsText.First(text[pos..], out var length);
                if (!(rune.Value is >= '0' and <= '9') && !JsText.IsWhiteSpace(rune))
                {
                    break;
                }

                pos += length;
            }

            if (pos > start)
            {
                var digits = JsText.Trim(text[start..pos]);
                if (digits.IsEmpty)
                {
                    ackId = 0;
                }
                else if (TryParseLong(digits, out var id))
                {
                    ackId = id;
                }
                else
                {
                    return Fail(SocketDecodeError.InvalidAckId, "invalid ack id");
                }
            }
        }

        // Payload: the rest, which must be JSON (tryParse returns false on error, which no type accepts).
        JsonElement? data = null;
        if (pos < text.Length)
        {
            if (!TryParseJson(text[pos..], out var payload) || !IsPayloadValid(type, payload))
            {
                return Fail(SocketDecodeError.InvalidPayload, "invalid payload");
            }

            data = payload;
        }

        if (attachments == 0)
        {
            packet = new SocketPacket(type, nsp, ackId, data);
            return Succeed();
        }

        // Upstream checks placeholders once every attachment has arrived (lib/binary.ts _reconstructPacket,
        // CVE-2022-2421). The count is known now, so check them now and never buffer a doomed packet's bytes.
        if (data is { } root && !ArePlaceholdersValid(root, attachments))
        {
            return Fail(SocketDecodeError.IllegalAttachmentIndex, "illegal attachments");
        }

        _pendingType = type;
        _pendingNamespace = nsp;
        _pendingAckId = ackId;
        _pendingData = data;
        _pendingAttachments = new ReadOnlyMemory<byte>[attachments];
        _receivedAttachments = 0;
        LastErrorCode = SocketDecodeError.None;
        LastError = null;
        return SocketDecodeResult.AwaitingAttachments;
    }

    private bool TryParseJson(ReadOnlySpan<byte> json, out JsonElement element)
    {
        // Strings from the wire are made well-formed here, once: a lone surrogate escape becomes \ufffd, so no
        // GetString() above the decoder (event names, arguments, auth) can throw on what a client sent.
        if (LoneSurrogates.Replace(json) is { } repaired)
        {
            json = repaired;
        }

        // System.Text.Json reports malformed JSON only by exception. This is the error path of a packet that
        // closes the connection, never the path of a valid one; no other exception type is expected here.
        var reader = new Utf8JsonReader(json, _readerOptions);
        try
        {
            // ParseValue copies the bytes it keeps and needs no Dispose.
            element = JsonElement.ParseValue(ref reader);

            // Anything but whitespace after the value is an error, as for JSON.parse ("[1] [2]" throws here).
            return !reader.Read();
        }
        catch (JsonException)
        {
            element = default;
            return false;
        }
    }

    /// <summary>lib/index.ts <c>isPayloadValid</c>.</summary>
    private static bool IsPayloadValid(SocketPacketType type, JsonElement payload)
    {
        switch (type)
        {
            case SocketPacketType.Connect:
                // isObject: Object.prototype.toString gives "[object Object]" only for objects, not arrays/null.
                return payload.ValueKind == JsonValueKind.Object;
            case SocketPacketType.Disconnect:
                return false;
            case SocketPacketType.ConnectError:
                return payload.ValueKind is JsonValueKind.String or JsonValueKind.Object;
            case SocketPacketType.Event:
            case SocketPacketType.BinaryEvent:
                if (payload.ValueKind != JsonValueKind.Array || payload.GetArrayLength() == 0)
                {
                    return false;
                }

                var name = payload[0];
                return name.ValueKind == JsonValueKind.Number
                    || (name.ValueKind == JsonValueKind.String && !IsReserved(name));
            default: // Ack, BinaryAck
                return payload.ValueKind == JsonValueKind.Array;
        }
    }

    private static bool IsReserved(JsonElement name)
    {
        // Not JsonElement.ValueEquals: it throws on lone surrogate escapes.
        var content = JsonStringify.RawContent(name);
        foreach (var reserved in s_reservedEvents)
        {
            if (JsonStringify.ContentEquals(content, reserved))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Walks the payload like lib/binary.ts <c>_reconstructPacket</c>: every object whose <c>_placeholder</c> is
    /// true must have a valid <c>num</c>; other objects and arrays are searched. Depth is bounded by MaxJsonDepth.
    /// </summary>
    private static bool ArePlaceholdersValid(JsonElement element, int attachments)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (!ArePlaceholdersValid(item, attachments))
                    {
                        return false;
                    }
                }

                return true;
            case JsonValueKind.Object:
                switch (PlaceholderReader.Read(element, out var num))
                {
                    case PlaceholderKind.Valid:
                        return num < attachments;
                    case PlaceholderKind.Invalid:
                        return false;
                }

                foreach (var property in element.EnumerateObject())
                {
                    if (!ArePlaceholdersValid(property.Value, attachments))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return true;
        }
    }
}

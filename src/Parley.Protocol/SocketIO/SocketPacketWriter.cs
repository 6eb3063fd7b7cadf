using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace Parley.Protocol.SocketIO;

/// <summary>
/// Writes outbound Socket.IO v5 packets byte-exact with socket.io-parser 4.2 <c>Encoder.encodeAsString</c>
/// (lib/index.ts), without intermediate strings. Only the Socket.IO packet: the Engine.IO <c>4</c> prefix and
/// the attachments (sent as separate binary Engine.IO messages after the text) are the caller's.
/// </summary>
/// <remarks>
/// Wire format (socket.io-protocol Readme "Packet encoding"; protocol.md §3):
/// <code>
/// &lt;type&gt;[&lt;attachments&gt;-][&lt;nsp&gt;,][&lt;ackId&gt;][&lt;JSON&gt;]
/// 2["hello",1]              event on "/"
/// 2/admin,13["hi"]          event on "/admin" asking for ack 13
/// 31["ok"]                  ack 1
/// 51-["file",{"_placeholder":true,"num":0}]   binary event with one attachment
/// 0/admin,{"sid":"abc"}     connect accepted
/// 1/admin,                  disconnect
/// </code>
/// The attachment count is written for (and only for) BinaryEvent/BinaryAck; the namespace is omitted when it
/// is <c>/</c> (or empty, as upstream's <c>obj.nsp &amp;&amp;</c> test).
/// </remarks>
public static class SocketPacketWriter
{
    /// <summary>
    /// Writes everything before the JSON payload. To add a payload, then write it to the same
    /// <paramref name="output"/>, e.g. with a <see cref="Utf8JsonWriter"/> created over it with
    /// <see cref="SocketJson.WriterOptions"/> (flush it before using <paramref name="output"/> again).
    /// </summary>
    /// <param name="output">Destination.</param>
    /// <param name="type">Packet type.</param>
    /// <param name="nsp">Namespace; <c>/</c>, null or empty for the main namespace.</param>
    /// <param name="ackId">Ack id, or null.</param>
    /// <param name="attachments">Number of binary attachments; at least 1 for BinaryEvent/BinaryAck (the
    /// decoder of socket.io-parser 4.2.7 rejects 0), 0 for other types.</param>
    /// <exception cref="ArgumentOutOfRangeException">Bad type, ack id or attachment count.</exception>
    public static void WriteHeader(IBufferWriter<byte> output, SocketPacketType type, string? nsp, long? ackId, int attachments)
    {
        ArgumentNullException.ThrowIfNull(output);
        if ((byte)type > (byte)SocketPacketType.BinaryAck)
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown Socket.IO packet type.");
        }

        if (type is SocketPacketType.BinaryEvent or SocketPacketType.BinaryAck)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(attachments, 1);
        }
        else if (attachments != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(attachments), attachments, "Only BinaryEvent and BinaryAck packets carry attachments.");
        }

        if (ackId is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ackId), ackId, "Ack ids are non-negative.");
        }

        // Longest header without the namespace: type + int + '-' + long.
        var span = output.GetSpan(1 + 10 + 1);
        span[0] = (byte)('0' + (byte)type);
        var written = 1;
        if (attachments > 0)
        {
            Utf8Formatter.TryFormat(attachments, span[written..], out var n);
            written += n;
            span[written++] = (byte)'-';
        }

        output.Advance(written);

        if (!string.IsNullOrEmpty(nsp) && nsp != "/")
        {
            var nspSpan = output.GetSpan(Encoding.UTF8.GetMaxByteCount(nsp.Length) + 1);
            var n = Encoding.UTF8.GetBytes(nsp, nspSpan);
            nspSpan[n] = (byte)',';
            output.Advance(n + 1);
        }

        if (ackId is { } id)
        {
            var idSpan = output.GetSpan(20);
            Utf8Formatter.TryFormat(id, idSpan, out var n);
            output.Advance(n);
        }
    }

    /// <summary>
    /// Writes a whole packet: the header, then <paramref name="data"/> as JSON.stringify would. A null data, a
    /// JSON <c>null</c> or an undefined element writes no payload (upstream's <c>null != obj.data</c> test).
    /// </summary>
    /// <param name="output">Destination.</param>
    /// <param name="type">Packet type.</param>
    /// <param name="nsp">Namespace.</param>
    /// <param name="ackId">Ack id, or null.</param>
    /// <param name="data">Payload; placeholders must already be in it for binary types.</param>
    /// <param name="attachments">Attachment count, as for <see cref="WriteHeader"/>.</param>
    public static void Write(IBufferWriter<byte> output, SocketPacketType type, string? nsp, long? ackId, JsonElement? data, int attachments)
    {
        WriteHeader(output, type, nsp, ackId, attachments);
        if (data is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } payload)
        {
            JsonStringify.WriteElement(output, payload);
        }
    }

    /// <summary>Writes the placeholder object <c>{"_placeholder":true,"num":N}</c>, in that key order.</summary>
    /// <param name="writer">Destination, positioned where a value may go.</param>
    /// <param name="num">Index of the attachment.</param>
    public static void WritePlaceholder(Utf8JsonWriter writer, int num)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentOutOfRangeException.ThrowIfNegative(num);
        writer.WriteStartObject();
        writer.WriteBoolean(s_placeholder, true);
        writer.WriteNumber(s_num, num);
        writer.WriteEndObject();
    }

    private static readonly JsonEncodedText s_placeholder = JsonEncodedText.Encode("_placeholder");
    private static readonly JsonEncodedText s_num = JsonEncodedText.Encode("num");
}

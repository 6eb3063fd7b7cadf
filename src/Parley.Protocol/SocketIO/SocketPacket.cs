using System.Text.Json;

namespace Parley.Protocol.SocketIO;

/// <summary>
/// A decoded inbound Socket.IO packet. Immutable; owns its JSON and attachment bytes, so it stays valid after
/// the decoder or the caller's buffers are reused.
/// </summary>
public sealed class SocketPacket
{
    private static readonly ReadOnlyMemory<byte>[] s_noAttachments = [];
    private string? _eventName;

    /// <summary>Creates a packet (the decoder does this; public for tests and tools).</summary>
    /// <param name="type">The packet type as it appeared on the wire.</param>
    /// <param name="namespace">The namespace; null or empty means <c>/</c>.</param>
    /// <param name="ackId">The ack id, if any.</param>
    /// <param name="data">The payload, if any. A JSON <c>null</c> is kept as is.</param>
    /// <param name="attachments">Binary attachments in <c>num</c> order; null means none.</param>
    public SocketPacket(
        SocketPacketType type,
        string? @namespace,
        long? ackId,
        JsonElement? data,
        IReadOnlyList<ReadOnlyMemory<byte>>? attachments = null)
    {
        Type = type;
        Namespace = string.IsNullOrEmpty(@namespace) ? "/" : @namespace;
        AckId = ackId;
        Data = data;
        Attachments = attachments ?? s_noAttachments;
    }

    /// <summary>
    /// The type as it appeared on the wire. Unlike socket.io-parser, which rewrites BINARY_EVENT/BINARY_ACK to
    /// EVENT/ACK once reconstructed, this keeps <see cref="SocketPacketType.BinaryEvent"/> and
    /// <see cref="SocketPacketType.BinaryAck"/>: treat them as Event and Ack whose placeholders resolve through
    /// <see cref="TryGetAttachment"/>.
    /// </summary>
    public SocketPacketType Type { get; }

    /// <summary>The namespace, <c>/</c> when the packet names none. May be any text (e.g. <c>/a?b=1</c>).</summary>
    public string Namespace { get; }

    /// <summary>The ack id, or null when the sender wants no acknowledgement.</summary>
    public long? AckId { get; }

    /// <summary>
    /// The JSON payload, or null when the packet has none. When present: an object for Connect, a string or
    /// object for ConnectError, an array for Ack/BinaryAck, a non-empty array whose first element is a
    /// non-reserved string or a number for Event/BinaryEvent. Disconnect never has one. Note that upstream
    /// accepts Event, Ack, Connect and ConnectError packets with no payload at all (e.g. <c>2</c>); the
    /// server must treat a missing Event/Ack payload as no arguments (socket.io lib/socket.ts <c>onevent</c>
    /// uses <c>packet.data || []</c>).
    /// </summary>
    public JsonElement? Data { get; }

    /// <summary>Binary attachments in <c>num</c> order; empty when the packet has none.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Attachments { get; }

    /// <summary>
    /// For Event/BinaryEvent with a payload: the event name, i.e. the first array element as a string, or the
    /// raw JSON text of a number (upstream allows numeric names: <c>2[1,"a"]</c> gives <c>"1"</c>).
    /// Null for other types or when there is no payload. Note that <c>error</c> is a valid name at the parser
    /// level (the server must not let it crash anything, CVE-2024-38355).
    /// </summary>
    public string? EventName
    {
        get
        {
            if (_eventName is null
                && Type is SocketPacketType.Event or SocketPacketType.BinaryEvent
                && Data is { ValueKind: JsonValueKind.Array } data
                && data.GetArrayLength() > 0)
            {
                var first = data[0];
                _eventName = first.ValueKind switch
                {
                    // Not GetString(): it throws on lone surrogate escapes, which JSON.parse accepts.
                    JsonValueKind.String => JsonStringify.Unescape(JsonStringify.RawContent(first)),
                    JsonValueKind.Number => first.GetRawText(),
                    _ => null,
                };
            }

            return _eventName;
        }
    }

    /// <summary>
    /// Resolves a binary placeholder (<c>{"_placeholder":true,"num":N}</c>) found in <see cref="Data"/> to its
    /// attachment. True iff <paramref name="element"/> is an object whose (last) <c>_placeholder</c> is
    /// <c>true</c> and whose (last) <c>num</c> is an integer in [0, <see cref="Attachments"/>.Count), the
    /// rule of socket.io-parser lib/binary.ts <c>_reconstructPacket</c> (last wins, as in JSON.parse).
    /// </summary>
    /// <param name="element">Any element of <see cref="Data"/>.</param>
    /// <param name="bytes">The attachment when true; empty otherwise.</param>
    /// <returns>Whether the element is a valid placeholder of this packet.</returns>
    public bool TryGetAttachment(JsonElement element, out ReadOnlyMemory<byte> bytes)
    {
        if (PlaceholderReader.Read(element, out var num) == PlaceholderKind.Valid
            && num < Attachments.Count)
        {
            bytes = Attachments[(int)num];
            return true;
        }

        bytes = default;
        return false;
    }
}

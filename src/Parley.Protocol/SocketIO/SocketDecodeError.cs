namespace Parley.Protocol.SocketIO;

/// <summary>
/// Why a <see cref="SocketPacketDecoder"/> rejected its input. Each code maps to one error message of
/// socket.io-parser lib/index.ts and lib/binary.ts (given in <see cref="SocketPacketDecoder.LastError"/>).
/// </summary>
public enum SocketDecodeError
{
    /// <summary>No error.</summary>
    None = 0,

    /// <summary>First character is not a type digit 0–6: "unknown packet type X".</summary>
    UnknownPacketType,

    /// <summary>Binary attachment count is not a positive integer followed by <c>-</c>: "Illegal attachments".</summary>
    IllegalAttachments,

    /// <summary>More attachments declared than allowed (CVE-2026-33151): "too many attachments".</summary>
    TooManyAttachments,

    /// <summary>
    /// The ack id is not representable as a <see cref="long"/> (upstream would produce NaN or a rounded
    /// double): "invalid ack id". Parley-specific.
    /// </summary>
    InvalidAckId,

    /// <summary>JSON does not parse, is nested too deep, or has the wrong shape for the type: "invalid payload".</summary>
    InvalidPayload,

    /// <summary>A placeholder's <c>num</c> is not an index of an attachment (CVE-2022-2421): "illegal attachments".</summary>
    IllegalAttachmentIndex,

    /// <summary>A text message arrived while attachments were expected: "got plaintext data when reconstructing a packet".</summary>
    PlaintextWhileReconstructing,

    /// <summary>A binary message arrived with no binary header before it: "got binary data when not reconstructing a packet".</summary>
    BinaryWhenNotReconstructing,
}

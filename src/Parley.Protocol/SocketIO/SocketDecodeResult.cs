namespace Parley.Protocol.SocketIO;

/// <summary>Outcome of feeding one Engine.IO message to a <see cref="SocketPacketDecoder"/>.</summary>
public enum SocketDecodeResult
{
    /// <summary>A whole packet was decoded; the <c>packet</c> out parameter is set.</summary>
    Complete = 0,

    /// <summary>
    /// A binary packet header was accepted and the decoder now waits for its attachments
    /// (feed them to <see cref="SocketPacketDecoder.AddAttachment"/>); the <c>packet</c> out parameter is null.
    /// </summary>
    AwaitingAttachments = 1,

    /// <summary>
    /// The input is malformed. <see cref="SocketPacketDecoder.LastError"/> and
    /// <see cref="SocketPacketDecoder.LastErrorCode"/> say why; the server closes the connection
    /// (socket.io lib/client.ts <c>onerror</c>). The decoder is reset and may be reused.
    /// </summary>
    Invalid = 2,
}

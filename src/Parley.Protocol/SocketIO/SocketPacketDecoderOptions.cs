namespace Parley.Protocol.SocketIO;

/// <summary>Limits of a <see cref="SocketPacketDecoder"/>.</summary>
public sealed class SocketPacketDecoderOptions
{
    /// <summary>
    /// Largest attachment count a binary packet may declare. Default 10, as socket.io-parser's
    /// <c>maxAttachments</c> (added for CVE-2026-33151). Must be at least 0.
    /// </summary>
    public int MaxAttachments { get; set; } = 10;

    /// <summary>
    /// Deepest JSON nesting accepted in a payload. Default 32. JSON.parse has no limit; we have one because deep
    /// nesting costs stack and time (a DoS vector), and real payloads are shallow. Must be at least 1.
    /// </summary>
    public int MaxJsonDepth { get; set; } = 32;
}

namespace Parley;

/// <summary>A Socket.IO parser: how packets are written on the wire (<see cref="ParleyOptions.Parsers"/>).</summary>
public enum SocketParser
{
    /// <summary>socket.io-parser: a text packet, binary attachments as separate binary messages.</summary>
    Default,

    /// <summary>
    /// socket.io-msgpack-parser 3.x: each packet is one binary message, the msgpack map <c>{type, data, id, nsp}</c>
    /// as notepack.io encodes it (the client of <c>socket.io.msgpack.min.js</c>).
    /// </summary>
    MessagePack,
}

namespace Parley.Protocol.EngineIO;

/// <summary>
/// Engine.IO v4 packet types, written as one ASCII digit before the packet data.
/// See https://github.com/socketio/engine.io-protocol#packet-encoding.
/// </summary>
public enum EnginePacketType : byte
{
    /// <summary><c>0</c>: sent by the server with the handshake JSON.</summary>
    Open = 0,

    /// <summary><c>1</c>: the transport can be closed.</summary>
    Close = 1,

    /// <summary><c>2</c>: heartbeat, sent by the server in v4 (and <c>2probe</c> by the client during an upgrade).</summary>
    Ping = 2,

    /// <summary><c>3</c>: heartbeat answer (and <c>3probe</c> by the server during an upgrade).</summary>
    Pong = 3,

    /// <summary><c>4</c>: a message carrying application data (text, or a raw binary frame).</summary>
    Message = 4,

    /// <summary><c>5</c>: the client commits an upgrade to WebSocket.</summary>
    Upgrade = 5,

    /// <summary><c>6</c>: nothing; used to end a pending poll during an upgrade.</summary>
    Noop = 6,
}

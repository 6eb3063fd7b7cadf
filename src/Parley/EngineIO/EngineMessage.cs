namespace Parley.EngineIO;

/// <summary>
/// A message received from a client. <see cref="Data"/> is only valid during the callback that receives it (the
/// buffer is pooled); copy what must outlive it.
/// </summary>
public readonly ref struct EngineMessage
{
    internal EngineMessage(ReadOnlySpan<byte> data, bool isBinary)
    {
        Data = data;
        IsBinary = isBinary;
    }

    /// <summary>UTF-8 text, or the raw bytes of a binary message.</summary>
    public ReadOnlySpan<byte> Data { get; }

    /// <summary>True for a binary message.</summary>
    public bool IsBinary { get; }
}

/// <summary>Receives the messages of a connection; called for one message at a time, in order.</summary>
public delegate void EngineMessageHandler(EngineConnection connection, EngineMessage message);

/// <summary>Why a connection closed, with engine.io's names.</summary>
public static class EngineCloseReasons
{
    /// <summary>The transport failed (overlapping polls, write errors, a vanished poll).</summary>
    public const string TransportError = "transport error";

    /// <summary>The client closed the transport or sent a close packet.</summary>
    public const string TransportClose = "transport close";

    /// <summary>The server closed the connection.</summary>
    public const string ForcedClose = "forced close";

    /// <summary>The client did not answer a ping in time.</summary>
    public const string PingTimeout = "ping timeout";

    /// <summary>The client sent a malformed packet.</summary>
    public const string ParseError = "parse error";

    /// <summary>The server is stopping.</summary>
    public const string ServerShuttingDown = "server shutting down";
}

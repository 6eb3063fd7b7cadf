namespace Parley.Resp;

/// <summary>
/// There is no usable connection to Redis: connecting failed, the connection was lost while the command was pending,
/// or the client is disconnected (commands fail fast then instead of queueing) or disposed.
/// </summary>
public sealed class RespConnectionException : RespException
{
    /// <summary>Creates the exception.</summary>
    public RespConnectionException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

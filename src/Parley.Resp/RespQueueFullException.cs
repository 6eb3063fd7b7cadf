namespace Parley.Resp;

/// <summary>
/// A command was refused because its connection already holds <c>RespConnectionOptions.MaxPendingCommands</c>
/// commands or <c>MaxQueuedBytes</c> unsent bytes: Redis is not keeping up, or not answering at all.
/// </summary>
public sealed class RespQueueFullException : RespException
{
    /// <summary>Creates the exception.</summary>
    public RespQueueFullException(string message)
        : base(message)
    {
    }
}

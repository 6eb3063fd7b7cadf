namespace Parley.Resp;

/// <summary>The base of every failure Parley's Redis client reports.</summary>
public abstract class RespException : Exception
{
    /// <summary>Creates the exception.</summary>
    protected RespException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

namespace Parley.Resp;

/// <summary>A command got no reply within its timeout (<c>RespConnectionOptions.CommandTimeout</c>).</summary>
public sealed class RespTimeoutException : RespException
{
    /// <summary>Creates the exception.</summary>
    public RespTimeoutException(string message)
        : base(message)
    {
    }
}

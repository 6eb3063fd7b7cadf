namespace Parley.Resp;

/// <summary>The server sent bytes that are not RESP; the connection that read them is dropped and re-made.</summary>
public sealed class RespProtocolException : RespException
{
    /// <summary>Creates the exception.</summary>
    public RespProtocolException(string message)
        : base(message)
    {
    }
}

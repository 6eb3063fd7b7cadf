namespace Parley.Resp;

/// <summary>Redis answered a command with an error reply (<c>-ERR ...</c>, <c>-WRONGTYPE ...</c>); the message is Redis's.</summary>
public sealed class RespServerException : RespException
{
    /// <summary>Creates the exception.</summary>
    public RespServerException(string message)
        : base(message)
    {
    }

    /// <summary>The error's first word (<c>ERR</c>, <c>WRONGTYPE</c>, <c>NOAUTH</c>, ...).</summary>
    public string Prefix => Message.Split(' ', 2)[0];
}

namespace Parley.MessagePack;

/// <summary>
/// The one exception the msgpack reader throws: the input is truncated, forged (a length past the end of the
/// input), nested deeper than allowed, or uses a code msgpack does not define.
/// </summary>
internal sealed class MessagePackFormatException : Exception
{
    public MessagePackFormatException(string message)
        : base(message)
    {
    }

    public MessagePackFormatException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

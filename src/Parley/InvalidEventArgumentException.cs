namespace Parley;

/// <summary>
/// An argument a client sent cannot be read as the type a handler asked for (socket.io's clients send any
/// JSON). Thrown by <see cref="SocketEvent.Get{T}(int)"/> and <see cref="EventArgument"/>; when it
/// escapes a handler, the server counts it against the client instead of logging an error with its stack
/// (docs/security.md "Client faults").
/// </summary>
public sealed class InvalidEventArgumentException : Exception
{
    /// <summary>Creates the exception.</summary>
    public InvalidEventArgumentException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public InvalidEventArgumentException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the deserializer's exception.</summary>
    public InvalidEventArgumentException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

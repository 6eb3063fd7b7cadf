using System.Text.Json;

namespace Parley;

/// <summary>
/// Thrown by a connection middleware to refuse a client: it receives <c>connect_error</c> with this message and
/// <see cref="Data"/> (socket.io: <c>next(err)</c> with <c>err.data</c>).
/// </summary>
public sealed class ParleyConnectionRefusedException : Exception
{
    /// <summary>Refuses with a message.</summary>
    public ParleyConnectionRefusedException(string message) : base(message)
    {
    }

    /// <summary>Refuses with a message and data the client receives as <c>err.data</c>.</summary>
    public ParleyConnectionRefusedException(string message, object? data) : base(message) => Data = data;

    /// <summary>Refuses with a message and an inner exception.</summary>
    public ParleyConnectionRefusedException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Refuses without a message.</summary>
    public ParleyConnectionRefusedException() : base("unauthorized")
    {
    }

    /// <summary>Extra data for the client (serialized as JSON), or null.</summary>
    public new object? Data { get; }

    internal static JsonElement? ToJson(object? data, JsonSerializerOptions options) =>
        data is null ? null : data is JsonElement e ? e : JsonSerializer.SerializeToElement(data, data.GetType(), options);
}

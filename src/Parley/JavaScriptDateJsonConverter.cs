using System.Text.Json;
using System.Text.Json.Serialization;
using Parley.Internal;

namespace Parley;

/// <summary>
/// <see cref="SocketHandshake.Time"/> in JSON as socket.io has it, JavaScript's <c>Date.toString()</c>, so a handshake
/// serialized by the app reads as Node's does; reads that form or ISO 8601.
/// </summary>
internal sealed class JavaScriptDateJsonConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String && JavaScriptDate.TryParse(reader.GetString(), out var time))
        {
            return time;
        }
        return reader.GetDateTimeOffset();
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(JavaScriptDate.Format(value));
}

using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Parley.Adapters;
using MessagePack;
using Parley.Serialization;

namespace Parley.Redis;

/// <summary>
/// Codec helpers shared by both adapters (docs/wire-formats.md §5). Parley carries an event as a JSON array with
/// <c>{"_placeholder":true,"num":N}</c> plus attachments (socket.io-parser's split); the adapters carry JS values as
/// JSON text or notepack msgpack, where a Buffer is a msgpack <c>bin</c>. These convert between the two.
/// </summary>
internal static class RedisWire
{
    private static readonly IReadOnlyList<ReadOnlyMemory<byte>> s_none = [];

    /// <summary>uid2(6) (npm uid2 1.0.0): 6 characters of A-Za-z0-9-_ from a CSPRNG; classic node and request ids.</summary>
    public static string Uid2() =>
        new(RandomNumberGenerator.GetItems<char>("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 6));

    // ---- reading ----

    /// <summary>
    /// A request, response or cluster message: JSON when the first byte is <c>{</c>, notepack msgpack otherwise
    /// (redis-adapter index.ts <c>onrequest</c>/<c>onresponse</c>, sharded-adapter.ts <c>onRawMessage</c>). Binaries
    /// of msgpack come back as placeholders numbered in document order, their bytes in <c>Attachments</c>.
    /// </summary>
    public static (JsonElement Root, IReadOnlyList<ReadOnlyMemory<byte>> Attachments) Decode(ReadOnlyMemory<byte> raw)
    {
        if (raw.Length > 0 && raw.Span[0] == (byte)'{')
        {
            // A Node peer's JSON.stringify writes a lone surrogate as \ud800: repaired here, as the Socket.IO decoder
            // does for clients, so that no GetString on what another node sent can throw (docs/security.md).
            using var document = JsonDocument.Parse(Parley.Protocol.SocketIO.SocketJson.ReplaceLoneSurrogates(raw.Span) ?? raw);
            return (document.RootElement.Clone(), s_none);
        }
        var attachments = new List<ReadOnlyMemory<byte>>();
        var root = MessagePackJson.ToJsonElement(raw, attachments);
        return (root, attachments.Count == 0 ? s_none : attachments);
    }

    public static string? GetString(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static int GetInt(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) ? (int)d : -1;

    public static bool TryGet(JsonElement obj, string name, out JsonElement value)
    {
        value = default;
        return obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined);
    }

    /// <summary>A packet's <c>data</c> (<c>[event, ...args]</c>) as a payload, re-encodable for local clients.</summary>
    public static SocketPayload ToPayload(JsonElement data, IReadOnlyList<ReadOnlyMemory<byte>> attachments) =>
        new(Encoding.UTF8.GetBytes(data.GetRawText()), attachments);

    public static HashSet<string> ReadSet(JsonElement obj, string name)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        if (TryGet(obj, name, out var array) && array.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in array.EnumerateArray())
            {
                // JS rooms may be numbers (socket.io's Room = string | number); they match their string form here.
                set.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : item.GetRawText());
            }
        }
        return set;
    }

    /// <summary>
    /// Builds a message as JSON (payload JSON written raw, placeholders included) and returns it as JSON text, or as
    /// notepack msgpack when <paramref name="msgpack"/> is set or the message carries binaries (placeholders become
    /// <c>bin</c> again, as notepack would have written the Buffers).
    /// </summary>
    public static ReadOnlyMemory<byte> Build<TState>(TState state, Action<Utf8JsonWriter, TState> write, IReadOnlyList<ReadOnlyMemory<byte>> attachments, bool msgpack)
    {
        var json = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(json, new JsonWriterOptions { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            write(writer, state);
        }
        if (!msgpack && attachments.Count == 0)
        {
            return json.WrittenMemory;
        }
        using var document = JsonDocument.Parse(json.WrittenMemory);
        var output = new ArrayBufferWriter<byte>(json.WrittenCount);
        var mp = new MessagePackWriter(output);
        MessagePackJson.WriteMessagePack(ref mp, document.RootElement, attachments);
        mp.Flush();
        return output.WrittenMemory;
    }
}

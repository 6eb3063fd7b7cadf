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

    /// <summary><c>randomBytes(8).toString("hex")</c> (socket.io-adapter cluster-adapter.ts <c>randomId</c>).</summary>
    public static string HexId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

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

    /// <summary><c>{rooms:[...], except:[...], flags?}</c> → options; unknown flags are ignored, <c>local</c> is never honoured remotely.</summary>
    public static BroadcastOptions ReadOptions(JsonElement opts)
    {
        var rooms = ReadSet(opts, "rooms");
        var except = ReadSet(opts, "except");
        var flags = BroadcastFlags.Default;
        if (TryGet(opts, "flags", out var f) && f.ValueKind == JsonValueKind.Object)
        {
            var isVolatile = f.TryGetProperty("volatile", out var v) && v.ValueKind == JsonValueKind.True;
            var compress = !(f.TryGetProperty("compress", out var c) && c.ValueKind == JsonValueKind.False);
            TimeSpan? timeout = f.TryGetProperty("timeout", out var t) && t.ValueKind == JsonValueKind.Number ? TimeSpan.FromMilliseconds(t.GetDouble()) : null;
            if (isVolatile || !compress || timeout is not null)
            {
                flags = new BroadcastFlags { Volatile = isVolatile, Compress = compress, Timeout = timeout };
            }
        }
        return new BroadcastOptions(rooms, except, flags);
    }

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

    /// <summary>A socket as another node reported it: <c>{id, handshake, rooms, data}</c>.</summary>
    public static RemoteSocket ReadSocket(Namespace nsp, JsonElement s)
    {
        var h = TryGet(s, "handshake", out var hs) ? hs : default;
        var handshake = new SocketHandshake(
            ReadStringMap(h, "headers"),
            GetString(h, "time") ?? "",
            GetString(h, "address") ?? "",
            TryGet(h, "xdomain", out var xd) && xd.ValueKind == JsonValueKind.True,
            TryGet(h, "secure", out var sc) && sc.ValueKind == JsonValueKind.True,
            TryGet(h, "issued", out var iss) && iss.ValueKind == JsonValueKind.Number ? (long)iss.GetDouble() : 0,
            GetString(h, "url") ?? "",
            ReadStringMap(h, "query"),
            TryGet(h, "auth", out var auth) ? auth : default);
        var data = s.TryGetProperty("data", out var d) ? d : default;
        if (data.ValueKind == JsonValueKind.Undefined)
        {
            data = JsonDocument.Parse("null").RootElement;
        }
        return new RemoteSocket(nsp, GetString(s, "id") ?? "", handshake, ReadSet(s, "rooms"), data);
    }

    private static Dictionary<string, string> ReadStringMap(JsonElement obj, string name)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (TryGet(obj, name, out var o) && o.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in o.EnumerateObject())
            {
                // Node gives string values, but an array (set-cookie) or a number must not fail the whole fetch.
                map[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
            }
        }
        return map;
    }

    // ---- writing JSON ----

    /// <summary><c>{"rooms":[...],"except":[...]}</c>, then <c>"flags":{...}</c> when <paramref name="withFlags"/> (encodeOptions).</summary>
    public static void WriteOptions(Utf8JsonWriter w, BroadcastOptions options, bool withFlags)
    {
        w.WriteStartObject();
        w.WriteStartArray("rooms");
        foreach (var room in options.Rooms)
        {
            w.WriteStringValue(room);
        }
        w.WriteEndArray();
        w.WriteStartArray("except");
        foreach (var room in options.Except)
        {
            w.WriteStringValue(room);
        }
        w.WriteEndArray();
        if (withFlags)
        {
            w.WritePropertyName("flags");
            w.WriteStartObject();
            var f = options.Flags;
            if (f.Volatile)
            {
                w.WriteBoolean("volatile", true);
            }
            if (!f.Compress)
            {
                w.WriteBoolean("compress", false);
            }
            if (f.Timeout is { } t)
            {
                w.WriteNumber("timeout", (long)t.TotalMilliseconds);
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    /// <summary>
    /// A local socket as REMOTE_FETCH / FETCH_SOCKETS_RESPONSE report it (index.ts L386-399):
    /// <c>{"id","handshake":{headers,time,address,xdomain,secure,issued,url,query,auth},"rooms":[...],"data":...}</c>.
    /// </summary>
    public static void WriteSocket(Utf8JsonWriter w, RemoteSocket s)
    {
        w.WriteStartObject();
        w.WriteString("id", s.Id);
        w.WritePropertyName("handshake");
        w.WriteStartObject();
        var h = s.Handshake;
        w.WritePropertyName("headers");
        WriteStringMap(w, h.Headers);
        w.WriteString("time", h.Time);
        w.WriteString("address", h.Address);
        w.WriteBoolean("xdomain", h.Xdomain);
        w.WriteBoolean("secure", h.Secure);
        w.WriteNumber("issued", h.Issued);
        w.WriteString("url", h.Url);
        w.WritePropertyName("query");
        WriteStringMap(w, h.Query);
        w.WritePropertyName("auth");
        h.Auth.WriteTo(w);
        w.WriteEndObject();
        w.WriteStartArray("rooms");
        foreach (var room in s.Rooms)
        {
            w.WriteStringValue(room);
        }
        w.WriteEndArray();
        w.WritePropertyName("data");
        if (s.Data.ValueKind == JsonValueKind.Undefined)
        {
            w.WriteNullValue();
        }
        else
        {
            s.Data.WriteTo(w);
        }
        w.WriteEndObject();
    }

    private static void WriteStringMap(Utf8JsonWriter w, IReadOnlyDictionary<string, string> map)
    {
        w.WriteStartObject();
        foreach (var (k, v) in map)
        {
            w.WriteString(k, v);
        }
        w.WriteEndObject();
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

    /// <summary>A payload's first argument (an ack's answer) as JSON + attachments; null when there is none.</summary>
    public static (JsonElement Value, IReadOnlyList<ReadOnlyMemory<byte>> Attachments) FirstArgument(object?[] args, JsonSerializerOptions wireOptions)
    {
        var payload = SocketPayload.Create(null, args, wireOptions);
        using var document = JsonDocument.Parse(payload.Json);
        var root = document.RootElement;
        var first = root.GetArrayLength() > 0 ? root[0].Clone() : JsonDocument.Parse("null").RootElement;
        return (first, payload.Attachments);
    }

    // ---- writing msgpack ----

    /// <summary>Writes a payload's <c>[event, ...args]</c> as msgpack: its JSON is parsed once per broadcast, never per recipient.</summary>
    public static void WritePayload(ref MessagePackWriter writer, SocketPayload payload)
    {
        using var document = JsonDocument.Parse(payload.Json);
        MessagePackJson.WriteMessagePack(ref writer, document.RootElement, payload.Attachments);
    }

    public static void WriteStringArray(ref MessagePackWriter writer, IReadOnlySet<string> items)
    {
        writer.WriteArrayHeader(items.Count);
        foreach (var item in items)
        {
            writer.Write(item);
        }
    }

    /// <summary><c>flags</c> as upstream sends them: only the modifiers that are set (<c>{}</c> when none).</summary>
    public static void WriteFlags(ref MessagePackWriter writer, BroadcastFlags flags)
    {
        var count = (flags.Volatile ? 1 : 0) + (flags.Compress ? 0 : 1) + (flags.Timeout is null ? 0 : 1);
        writer.WriteMapHeader(count);
        if (flags.Volatile)
        {
            writer.Write("volatile");
            writer.Write(true);
        }
        if (!flags.Compress)
        {
            writer.Write("compress");
            writer.Write(false);
        }
        if (flags.Timeout is { } t)
        {
            writer.Write("timeout");
            writer.Write((long)t.TotalMilliseconds);
        }
    }
}

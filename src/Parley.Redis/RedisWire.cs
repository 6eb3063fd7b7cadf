using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Parley.Adapters;
using Parley.Internal;
using Parley.MessagePack;
using Parley.Protocol.SocketIO;
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
    public static (JsonElement Root, IReadOnlyList<ReadOnlyMemory<byte>> Attachments) Decode(ReadOnlySpan<byte> raw)
    {
        if (raw.Length > 0 && raw[0] == (byte)'{')
        {
            // A Node peer's JSON.stringify writes a lone surrogate as \ud800: repaired here, as the Socket.IO decoder
            // does for clients, so that no GetString on what another node sent can throw (docs/security.md).
            using var document = JsonDocument.Parse(Parley.Protocol.SocketIO.SocketJson.ReplaceLoneSurrogates(raw) ?? raw.ToArray());
            return (document.RootElement.Clone(), s_none);
        }
        var attachments = new List<byte[]>();
        var root = MessagePackJson.ToJsonElement(raw, attachments);
        return (root, attachments.Count == 0 ? s_none : attachments.ConvertAll(static b => (ReadOnlyMemory<byte>)b));
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
            ReadTime(h),
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

    // Node's Date.toString(), with the sender's offset; from "issued" (Unix ms, the same instant) when unreadable.
    private static DateTimeOffset ReadTime(JsonElement h) =>
        JavaScriptDate.TryParse(GetString(h, "time"), out var time) ? time
        : TryGet(h, "issued", out var iss) && iss.ValueKind == JsonValueKind.Number && iss.TryGetInt64(out var ms) && ms is >= -62135596800000 and <= 253402300799999
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : default;

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
        w.WriteString("time", JavaScriptDate.Format(h.Time));
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
        WriteMsgpack(ref mp, document.RootElement, attachments);
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

    /// <summary>
    /// Writes a JSON value as notepack would encode the JS value: placeholders become <c>bin</c>, integers the
    /// smallest int, other numbers float64 (same rules as MessagePackJson.WriteJson, for attachments held as memory).
    /// </summary>
    public static void WriteMsgpack(ref MessagePackWriter writer, JsonElement json, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        switch (json.ValueKind)
        {
            case JsonValueKind.Object:
                if (PlaceholderReader.TryGetIndex(json, attachments.Count, out var num))
                {
                    writer.WriteBinary(attachments[num].Span);
                    return;
                }
                writer.WriteMapHeader(json.GetPropertyCount());
                foreach (var property in json.EnumerateObject())
                {
                    writer.WriteString(property.Name);
                    WriteMsgpack(ref writer, property.Value, attachments);
                }
                break;
            case JsonValueKind.Array:
                writer.WriteArrayHeader(json.GetArrayLength());
                foreach (var item in json.EnumerateArray())
                {
                    WriteMsgpack(ref writer, item, attachments);
                }
                break;
            case JsonValueKind.String:
                writer.WriteString(json.GetString());
                break;
            case JsonValueKind.Number:
                WriteNumber(ref writer, json);
                break;
            case JsonValueKind.True:
                writer.WriteBoolean(true);
                break;
            case JsonValueKind.False:
                writer.WriteBoolean(false);
                break;
            default:
                writer.WriteNil();
                break;
        }
    }

    private static void WriteNumber(ref MessagePackWriter writer, JsonElement json)
    {
        var raw = json.GetRawText();
        if (raw.AsSpan().IndexOfAny('.', 'e', 'E') < 0)
        {
            if (json.TryGetInt64(out var signed))
            {
                writer.WriteInt64(signed);
                return;
            }
            if (json.TryGetUInt64(out var unsigned))
            {
                writer.WriteUInt64(unsigned);
                return;
            }
        }
        // JSON.stringify never writes 2.0 for an integral double, so a fraction or exponent means a JS non-integer
        // (or an integer beyond 64 bits); notepack writes those as float64 — WriteNumber picks int for 1e3.
        writer.WriteNumber(double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture));
    }

    /// <summary>Writes a payload's <c>[event, ...args]</c> as msgpack: its JSON is parsed once per broadcast, never per recipient.</summary>
    public static void WritePayload(ref MessagePackWriter writer, SocketPayload payload)
    {
        using var document = JsonDocument.Parse(payload.Json);
        WriteMsgpack(ref writer, document.RootElement, payload.Attachments);
    }

    public static void WriteStringArray(ref MessagePackWriter writer, IReadOnlySet<string> items)
    {
        writer.WriteArrayHeader(items.Count);
        foreach (var item in items)
        {
            writer.WriteString(item);
        }
    }

    /// <summary><c>flags</c> as upstream sends them: only the modifiers that are set (<c>{}</c> when none).</summary>
    public static void WriteFlags(ref MessagePackWriter writer, BroadcastFlags flags)
    {
        var count = (flags.Volatile ? 1 : 0) + (flags.Compress ? 0 : 1) + (flags.Timeout is null ? 0 : 1);
        writer.WriteMapHeader(count);
        if (flags.Volatile)
        {
            writer.WriteString("volatile");
            writer.WriteBoolean(true);
        }
        if (!flags.Compress)
        {
            writer.WriteString("compress");
            writer.WriteBoolean(false);
        }
        if (flags.Timeout is { } t)
        {
            writer.WriteString("timeout");
            writer.WriteNumber((long)t.TotalMilliseconds);
        }
    }
}

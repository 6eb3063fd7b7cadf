using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using Parley.Internal;

namespace Parley.Adapters;

/// <summary>
/// The JSON forms of cluster-adapter.ts: <c>encodeOptions</c>/<c>decodeOptions</c> and the sockets of a
/// FETCH_SOCKETS_RESPONSE. Values from another node are read defensively: a wrong type reads as absent.
/// </summary>
internal static class ClusterJson
{
    private static readonly JsonWriterOptions s_writerOptions = new()
    {
        SkipValidation = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary><c>randomBytes(8).toString("hex")</c> (cluster-adapter.ts <c>randomId</c>): node uids and request ids.</summary>
    public static string RandomId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    public static ReadOnlyMemory<byte> Write<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            write(writer, state);
        }
        return buffer.WrittenMemory;
    }

    public static string? GetString(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static bool TryGet(JsonElement obj, string name, out JsonElement value)
    {
        value = default;
        return obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined);
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

    /// <summary><c>decodeOptions</c>: unknown flags are ignored, and <c>local</c> is never honoured from another node.</summary>
    public static BroadcastOptions ReadOptions(JsonElement opts)
    {
        var flags = BroadcastFlags.Default;
        if (TryGet(opts, "flags", out var f) && f.ValueKind == JsonValueKind.Object)
        {
            var isVolatile = f.TryGetProperty("volatile", out var v) && v.ValueKind == JsonValueKind.True;
            var compress = !(f.TryGetProperty("compress", out var c) && c.ValueKind == JsonValueKind.False);
            TimeSpan? timeout = f.TryGetProperty("timeout", out var t) && t.ValueKind == JsonValueKind.Number && t.TryGetDouble(out var ms) && ms is >= 0 and < int.MaxValue
                ? TimeSpan.FromMilliseconds(ms)
                : null;
            if (isVolatile || !compress || timeout is not null)
            {
                flags = new BroadcastFlags { Volatile = isVolatile, Compress = compress, Timeout = timeout };
            }
        }
        return new BroadcastOptions(ReadSet(opts, "rooms"), ReadSet(opts, "except"), flags);
    }

    /// <summary><c>encodeOptions</c>: <c>{"rooms":[...],"except":[...],"flags":{...}}</c>, flags only as set.</summary>
    public static void WriteOptions(Utf8JsonWriter w, BroadcastOptions options)
    {
        w.WriteStartObject();
        WriteArray(w, "rooms", options.Rooms);
        WriteArray(w, "except", options.Except);
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
        w.WriteEndObject();
    }

    public static void WriteArray(Utf8JsonWriter w, string name, IEnumerable<string> items)
    {
        w.WriteStartArray(name);
        foreach (var item in items)
        {
            w.WriteStringValue(item);
        }
        w.WriteEndArray();
    }

    /// <summary>A socket as FETCH_SOCKETS_RESPONSE reports it: <c>{id, handshake, rooms, data}</c>.</summary>
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
        WriteArray(w, "rooms", s.Rooms);
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

    /// <summary>A socket as another node reported it.</summary>
    public static RemoteSocket ReadSocket(Namespace nsp, JsonElement s)
    {
        var h = TryGet(s, "handshake", out var hs) ? hs : default;
        var handshake = new SocketHandshake(
            ReadStringMap(h, "headers"),
            ReadTime(h),
            GetString(h, "address") ?? "",
            TryGet(h, "xdomain", out var xd) && xd.ValueKind == JsonValueKind.True,
            TryGet(h, "secure", out var sc) && sc.ValueKind == JsonValueKind.True,
            TryGet(h, "issued", out var iss) && iss.ValueKind == JsonValueKind.Number && iss.TryGetDouble(out var issued) ? (long)issued : 0,
            GetString(h, "url") ?? "",
            ReadStringMap(h, "query"),
            TryGet(h, "auth", out var auth) ? auth : default);
        var data = s.ValueKind == JsonValueKind.Object && s.TryGetProperty("data", out var d) ? d : Null;
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

    /// <summary>A JSON <c>null</c>.</summary>
    public static JsonElement Null { get; } = JsonDocument.Parse("null").RootElement.Clone();
}

using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Parley.Adapters;
using MessagePack;
using Parley.Serialization;
using StackExchange.Redis;

namespace Parley.Redis;

/// <summary>
/// The two encodings of <c>@socket.io/redis-streams-adapter</c> 0.3.x (lib/adapter.ts):
/// <list type="bullet">
/// <item>a stream entry: fields <c>uid</c>, <c>nsp</c>, <c>type</c> (the number as text) and, when there is data,
/// <c>data</c> — <c>JSON.stringify(data)</c>, or base64 of msgpack(data) when a type that may carry binary does
/// (<c>encode</c>/<c>decode</c>: JSON starts with <c>{</c>);</item>
/// <item>a pub/sub message (requests that wait for answers, and answers): msgpack of <c>{type, data, uid, nsp}</c>.</item>
/// </list>
/// msgpack is what <c>@msgpack/msgpack</c> writes and reads: Buffers are <c>bin</c>, here placeholders + attachments.
/// </summary>
internal static class StreamsWire
{
    public static readonly RedisValue UidField = "uid";
    public static readonly RedisValue NspField = "nsp";
    public static readonly RedisValue TypeField = "type";
    public static readonly RedisValue DataField = "data";

    public static NameValueEntry[] EncodeEntry(ClusterMessage message, bool onlyPlaintext)
    {
        var type = ((int)message.Type).ToString(CultureInfo.InvariantCulture);
        if (!message.HasData)
        {
            return [new(UidField, message.Uid), new(NspField, message.Namespace), new(TypeField, type)];
        }
        RedisValue data;
        if (!onlyPlaintext && message.MayContainBinary && message.HasBinary)
        {
            var buffer = new ArrayBufferWriter<byte>(message.DataJson.Length + 64);
            var writer = new MessagePackWriter(buffer);
            MessagePackJson.WriteMessagePack(ref writer, message.Data, message.Attachments);
            writer.Flush();
            data = Convert.ToBase64String(buffer.WrittenSpan);
        }
        else
        {
            data = message.DataJson;
        }
        return [new(UidField, message.Uid), new(NspField, message.Namespace), new(TypeField, type), new(DataField, data)];
    }

    /// <summary>A stream entry's fields as a message; null when a field is missing or of the wrong form.</summary>
    public static ClusterMessage? DecodeEntry(string uid, string nsp, string type, ReadOnlyMemory<byte>? data)
    {
        if (!int.TryParse(type, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return null;
        }
        if (data is not { IsEmpty: false } raw)
        {
            return new ClusterMessage(uid, nsp, (ClusterMessageType)number, default(JsonElement));
        }
        var bytes = raw.Span[0] == (byte)'{' ? raw : Base64(raw.Span);
        var (root, attachments) = RedisWire.Decode(bytes);
        return new ClusterMessage(uid, nsp, (ClusterMessageType)number, root, attachments);
    }

    private static byte[] Base64(ReadOnlySpan<byte> text)
    {
        var bytes = new byte[text.Length * 3 / 4 + 3];
        var status = System.Buffers.Text.Base64.DecodeFromUtf8(text, bytes, out _, out var written);
        if (status != OperationStatus.Done)
        {
            throw new FormatException("stream entry data is neither JSON nor base64");
        }
        return bytes.AsSpan(0, written).ToArray();
    }

    /// <summary>msgpack <c>{type, data, uid, nsp}</c> (cluster-adapter.ts adds uid and nsp last).</summary>
    public static byte[] EncodePubSub(ClusterMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>(message.DataJson.Length + 64);
        var writer = new MessagePackWriter(buffer);
        writer.WriteMapHeader(message.HasData ? 4 : 3);
        writer.Write("type");
        writer.Write((int)message.Type);
        if (message.HasData)
        {
            writer.Write("data");
            MessagePackJson.WriteMessagePack(ref writer, message.Data, message.Attachments);
        }
        writer.Write("uid");
        writer.Write(message.Uid);
        writer.Write("nsp");
        writer.Write(message.Namespace);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A pub/sub message; null when it is not a cluster message.</summary>
    public static ClusterMessage? DecodePubSub(ReadOnlyMemory<byte> raw)
    {
        var (root, attachments) = RedisWire.Decode(raw);
        var type = RedisWire.GetInt(root, "type");
        if (root.ValueKind != JsonValueKind.Object || RedisWire.GetString(root, "uid") is not { } uid || RedisWire.GetString(root, "nsp") is not { } nsp || type < 0)
        {
            return null;
        }
        var data = root.TryGetProperty("data", out var d) && d.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined) ? d : default;
        return new ClusterMessage(uid, nsp, (ClusterMessageType)type, data, attachments);
    }

    /// <summary>msgpack <c>{sid, pid, rooms, data}</c> (socket.ts <c>_cleanup</c>: the session upstream persists).</summary>
    public static byte[] EncodeSession(PersistedSession session, JsonSerializerOptions wireOptions)
    {
        var payload = Parley.Serialization.SocketPayload.Create(null, [session.Data], wireOptions);
        using var data = JsonDocument.Parse(payload.Json);
        var buffer = new ArrayBufferWriter<byte>(256);
        var writer = new MessagePackWriter(buffer);
        writer.WriteMapHeader(4);
        writer.Write("sid");
        writer.Write(session.Sid);
        writer.Write("pid");
        writer.Write(session.Pid);
        writer.Write("rooms");
        writer.WriteArrayHeader(session.Rooms.Count);
        foreach (var room in session.Rooms)
        {
            writer.Write(room);
        }
        writer.Write("data");
        MessagePackJson.WriteMessagePack(ref writer, data.RootElement[0], payload.Attachments);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A persisted session (ours or a Node node's); its data values come back as JSON elements. Null when malformed.</summary>
    public static PersistedSession? DecodeSession(byte[] raw)
    {
        var (root, _) = RedisWire.Decode(raw);
        if (RedisWire.GetString(root, "sid") is not { } sid || RedisWire.GetString(root, "pid") is not { } pid)
        {
            return null;
        }
        var data = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (RedisWire.TryGet(root, "data", out var d) && d.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in d.EnumerateObject())
            {
                data[property.Name] = property.Value.Clone();
            }
        }
        return new PersistedSession
        {
            Sid = sid,
            Pid = pid,
            Rooms = [.. RedisWire.ReadSet(root, "rooms")],
            Data = data,
            DisconnectedAt = DateTimeOffset.UtcNow,
        };
    }

    /// <summary>
    /// A stream entry as a missed packet of a session in <paramref name="rooms"/> (upstream <c>restoreSession</c> and
    /// <c>shouldIncludePacket</c>): a BROADCAST of <paramref name="nsp"/> to no room or to one of the rooms, excepting
    /// none of them, and not volatile. Null otherwise, or when the entry is malformed.
    /// </summary>
    public static BroadcastPacket? ReadMissedPacket(StreamEntry entry, string nsp, HashSet<string> rooms)
    {
        string? uid = null, entryNsp = null, type = null;
        ReadOnlyMemory<byte>? data = null;
        foreach (var field in entry.Values)
        {
            if (field.Name == UidField)
            {
                uid = field.Value;
            }
            else if (field.Name == NspField)
            {
                entryNsp = field.Value;
            }
            else if (field.Name == TypeField)
            {
                type = field.Value;
            }
            else if (field.Name == DataField)
            {
                data = (byte[]?)field.Value;
            }
        }
        if (uid is null || entryNsp != nsp || type != "3")
        {
            return null;
        }
        try
        {
            var message = DecodeEntry(uid, nsp, type, data);
            if (message is null || !RedisWire.TryGet(message.Data, "packet", out var packet) || !RedisWire.TryGet(packet, "data", out var packetData) ||
                packetData.ValueKind != JsonValueKind.Array || !RedisWire.TryGet(message.Data, "opts", out _) || message.RequestId is not null)
            {
                return null;
            }
            var options = message.Options!;
            var included = options.Rooms.Count == 0 || options.Rooms.Overlaps(rooms);
            if (!included || options.Except.Overlaps(rooms) || options.Flags.Volatile)
            {
                return null;
            }
            return new BroadcastPacket(nsp, RedisWire.ToPayload(packetData, message.Attachments));
        }
        catch (Exception e) when (e is JsonException or MessagePackSerializationException or FormatException)
        {
            return null;
        }
    }

    /// <summary>Redis Streams ids are <c>ms-seq</c>; upstream refuses any other offset.</summary>
    public static bool IsStreamId(string offset)
    {
        var dash = offset.IndexOf('-', StringComparison.Ordinal);
        return dash > 0 && dash < offset.Length - 1 && offset.AsSpan(0, dash).IndexOfAnyExceptInRange('0', '9') < 0 &&
            offset.AsSpan(dash + 1).IndexOfAnyExceptInRange('0', '9') < 0 && offset.Length <= 41;
    }

    /// <summary>The id right after <paramref name="id"/> (XRANGE's exclusive start, also before Redis 6.2; upstream <c>nextOffset</c>).</summary>
    public static string NextId(string id)
    {
        var dash = id.IndexOf('-', StringComparison.Ordinal);
        var sequence = ulong.Parse(id.AsSpan(dash + 1), CultureInfo.InvariantCulture);
        return sequence == ulong.MaxValue
            ? (ulong.Parse(id.AsSpan(0, dash), CultureInfo.InvariantCulture) + 1).ToString(CultureInfo.InvariantCulture) + "-0"
            : string.Concat(id.AsSpan(0, dash + 1), (sequence + 1).ToString(CultureInfo.InvariantCulture));
    }

    internal static string Utf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
}

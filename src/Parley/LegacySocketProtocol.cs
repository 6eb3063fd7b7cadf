using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Parley.Protocol.EngineIO;
using Parley.Protocol.SocketIO;

namespace Parley;

/// <summary>
/// What differs for socket.io-client 2.x, which speaks the Socket.IO v4 protocol over Engine.IO v3
/// (<see cref="EngineIO.EngineOptions.AllowEIO3"/>), as socket.io 4 handles it for <c>conn.protocol === 3</c>:
/// the main namespace is joined without a CONNECT, a CONNECT carries its auth as a query string in the namespace,
/// the server's CONNECT carries no data, refusals are ERROR packets with a string, and a socket's id is derived from
/// the Engine.IO id. Events, acks and binary attachments are encoded the same in both revisions.
/// </summary>
internal static class LegacySocketProtocol
{
    /// <summary>
    /// Splits a v4 namespace into its name and its query (client.ts <c>_parseNamespace</c>: the query becomes the
    /// auth object, every value a string).
    /// </summary>
    public static string ParseNamespace(string nsp, out JsonElement? auth)
    {
        var question = nsp.IndexOf('?', StringComparison.Ordinal);
        if (question < 0)
        {
            auth = null;
            return nsp;
        }
        // URLSearchParams into Object.fromEntries: a repeated name keeps its first position and its last value.
        var entries = new List<KeyValuePair<string, string>>();
        var positions = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var pair in new QueryStringEnumerable(nsp[question..]))
        {
            var name = pair.DecodeName().ToString();
            var value = pair.DecodeValue().ToString();
            if (positions.TryGetValue(name, out var index))
            {
                entries[index] = new(name, value);
            }
            else
            {
                positions[name] = entries.Count;
                entries.Add(new(name, value));
            }
        }
        var buffer = new ArrayBufferWriter<byte>(nsp.Length + 16);
        using (var writer = new Utf8JsonWriter(buffer, SocketJson.WriterOptions))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in entries)
            {
                writer.WritePropertyName(name);
                SocketJson.WriteStringValue(writer, value);
            }
            writer.WriteEndObject();
        }
        auth = JsonDocument.Parse(buffer.WrittenMemory).RootElement.Clone();
        return nsp[..question];
    }

    /// <summary>The socket id a v2 client computes itself: the Engine.IO id, prefixed with <c>nsp#</c> outside the main namespace.</summary>
    public static string SocketId(string nsp, string engineId) => nsp == "/" ? engineId : string.Concat(nsp, "#", engineId);

    /// <summary><c>40</c> or <c>40/nsp,</c> (socket.ts _onconnect: no data for protocol 3).</summary>
    public static EnginePacket ConnectFrame(string nsp)
    {
        var buffer = new ArrayBufferWriter<byte>(8 + nsp.Length);
        buffer.Write("4"u8);
        SocketPacketWriter.WriteHeader(buffer, SocketPacketType.Connect, nsp, null, 0);
        return EnginePacket.FromTextFrame(buffer.WrittenMemory, compress: false);
    }

    /// <summary>
    /// An ERROR packet (type 4) with the refusal's data, or its message as a string when it has none (namespace.ts
    /// <c>socket._error(err.data || err.message)</c>); socket.io 2 servers sent <c>"Invalid namespace"</c> the same way.
    /// </summary>
    public static EnginePacket ErrorFrame(string nsp, string message, JsonElement? data)
    {
        var buffer = new ArrayBufferWriter<byte>(32 + nsp.Length + message.Length);
        buffer.Write("4"u8);
        SocketPacketWriter.WriteHeader(buffer, SocketPacketType.ConnectError, nsp, null, 0);
        using (var writer = new Utf8JsonWriter(buffer, SocketJson.WriterOptions))
        {
            if (data is { } d && d.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
            {
                SocketJson.WriteValue(writer, d);
            }
            else
            {
                SocketJson.WriteStringValue(writer, message);
            }
        }
        return EnginePacket.FromTextFrame(buffer.WrittenMemory, compress: false);
    }
}

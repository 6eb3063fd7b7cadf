using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MessagePack;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Parley.Protocol.EngineIO;
using Parley.Protocol.SocketIO;
using Parley.Serialization;
using Parley.Sessions;

namespace Parley.Fuzz;

/// <summary>
/// The decoders a client or another node feeds, each as a function of arbitrary bytes. A target returns normally
/// for any input; the only exceptions allowed are the typed errors a decoder documents (here: the msgpack bridge's
/// <see cref="MessagePackSerializationException"/>). Anything else escaping is a finding. Beyond "does not throw", the
/// targets check the invariants hostile input must not break: every string of a decoded Socket.IO packet reads
/// with GetString (lone surrogates are repaired at the edge), and a decoded packet re-encodes.
/// </summary>
public static class FuzzTargets
{
    /// <summary>Target names (also the corpus directories under test/fuzz-corpus).</summary>
    public static IReadOnlyDictionary<string, Action<byte[]>> All { get; } = new Dictionary<string, Action<byte[]>>(StringComparer.Ordinal)
    {
        ["eio-payload"] = EnginePollingPayload,
        ["eio3-payload"] = EnginePollingPayloadV3,
        ["sio-packet"] = SocketIOPacket,
        ["cookie"] = SessionCookie,
        ["session-json"] = SessionJson,
        ["msgpack"] = MessagePack,
    };

    /// <summary>An Engine.IO v4 polling payload (packets separated by 0x1E, <c>b</c>+base64 for binary), then each text packet as a WebSocket frame.</summary>
    public static void EnginePollingPayload(byte[] input)
    {
        var count = 0;
        EnginePayload.TryRead(input, 0, (state, type, isBinary, data) =>
        {
            count++;
            if (!isBinary && !data.IsEmpty)
            {
                count += Encoding.UTF8.GetString(data).Length > 0 ? state : 0;
            }
            return type != EnginePacketType.Close;
        });
        _ = EngineFrame.TryParseText(input, out _, out _);
    }

    /// <summary>
    /// An Engine.IO v3 polling payload (socket.io-client 2.x): the first byte picks the form (odd: the binary form of
    /// an <c>application/octet-stream</c> body, even: the text form), the rest is the payload; then the rest as a v3
    /// binary WebSocket frame.
    /// </summary>
    public static void EnginePollingPayloadV3(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }
        var payload = input.AsSpan(1);
        var count = 0;
        EnginePayloadV3.TryRead(payload, (input[0] & 1) == 1, 0, (state, type, isBinary, data) =>
        {
            count++;
            if (!isBinary && !data.IsEmpty)
            {
                count += Encoding.UTF8.GetString(data).Length > 0 ? state : 0;
            }
            return type != EnginePacketType.Close;
        });
        _ = EnginePayloadV3.TryReadBinaryFrame(payload, out _, out _);
    }

    /// <summary>
    /// A Socket.IO v5 packet and its attachments: the text up to the first 0x1E is the packet, every later part an
    /// attachment (a binary WebSocket message). One decoder for the whole input, as for one connection.
    /// </summary>
    public static void SocketIOPacket(byte[] input)
    {
        var decoder = new SocketPacketDecoder();
        var parts = Split(input);
        var result = decoder.Decode(parts[0], out var packet);
        for (var i = 1; i < parts.Count && result == SocketDecodeResult.AwaitingAttachments; i++)
        {
            result = decoder.AddAttachment(parts[i], out packet);
        }
        if (result == SocketDecodeResult.Complete)
        {
            _ = packet!.EventName;
            if (packet.Data is { } data)
            {
                Walk(packet, data);
                var output = new System.Buffers.ArrayBufferWriter<byte>();
                SocketPacketWriter.Write(output, packet.Type, packet.Namespace, packet.AckId, data, packet.Attachments.Count);
            }
        }
        // The decoder is reusable after anything.
        decoder.Reset();
        _ = decoder.Decode("2[\"ok\"]"u8, out _);
    }

    /// <summary>A Cookie header: connect.sid found, URI-decoded and unsigned as express-session does.</summary>
    public static void SessionCookie(byte[] input)
    {
        var header = Encoding.UTF8.GetString(input);
        if (CookieCodec.GetFirstRaw(header, "connect.sid") is { } raw && CookieCodec.TryDecodeUriComponent(raw, out var decoded))
        {
            _ = CookieSignature.TryUnsign(decoded, "keyboard cat", out _);
        }
        _ = CookieCodec.GetFirst(header, "connect.sid");
        _ = SessionState.Manager.TryUnsign(header, out _);
    }

    /// <summary>A session record as a store holds it (express-session's JSON), loaded and every string value read.</summary>
    public static void SessionJson(byte[] input)
    {
        SessionState.Store.Json = Encoding.UTF8.GetString(input);
        var session = SessionState.Manager.LoadAsync("fuzz").GetAwaiter().GetResult();
        if (session is null)
        {
            return;
        }
        foreach (var (key, node) in session.Data)
        {
            if (node is JsonValue value && value.GetValueKind() == JsonValueKind.String)
            {
                _ = session.Get<string>(key);
            }
        }
    }

    /// <summary>notepack.io msgpack as the Redis adapter reads it from other nodes, converted to JSON, strings read.</summary>
    public static void MessagePack(byte[] input)
    {
        JsonElement root;
        try
        {
            root = MessagePackJson.ToJsonElement(input, []);
        }
        catch (MessagePackSerializationException)
        {
            return; // the bridge's one typed error for malformed input
        }
        Walk(null, root);
    }

    /// <summary>Reads every string and property name (and, for a packet, resolves every placeholder).</summary>
    private static void Walk(SocketPacket? packet, JsonElement element)
    {
        _ = packet?.TryGetAttachment(element, out _);
        switch (element.ValueKind)
        {
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Walk(packet, item);
                }
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    _ = property.Name;
                    Walk(packet, property.Value);
                }
                break;
            case JsonValueKind.String:
                _ = element.GetString();
                break;
        }
    }

    private static List<byte[]> Split(byte[] input)
    {
        var parts = new List<byte[]>();
        var span = input.AsSpan();
        while (true)
        {
            var end = span.IndexOf((byte)0x1E);
            if (end < 0)
            {
                parts.Add(span.ToArray());
                return parts;
            }
            parts.Add(span[..end].ToArray());
            span = span[(end + 1)..];
        }
    }

    /// <summary>
    /// Built on first use, not in FuzzTargets' static constructor: instrumented code must not run before SharpFuzz
    /// has attached AFL's shared memory.
    /// </summary>
    private static class SessionState
    {
        public static readonly FixedStore Store = new();

        public static readonly ParleySessionManager Manager = new(
            Options.Create(new ParleySessionOptions { Secrets = { "keyboard cat" } }),
            Store,
            TimeProvider.System,
            NullLogger<ParleySessionManager>.Instance);
    }

    /// <summary>A store that returns the fuzzed record for any id.</summary>
    private sealed class FixedStore : SessionStore
    {
        public string? Json { get; set; }

        public override ValueTask<string?> GetAsync(string sessionId, CancellationToken cancellationToken = default) => ValueTask.FromResult(Json);

        public override ValueTask SetAsync(string sessionId, SessionRecord record, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public override ValueTask TouchAsync(string sessionId, SessionRecord record, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public override ValueTask DestroyAsync(string sessionId, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
    }
}

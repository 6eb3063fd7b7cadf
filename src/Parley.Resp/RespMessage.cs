namespace Parley.Resp;

/// <summary>Which subscription a message came through.</summary>
internal enum RespMessageKind : byte
{
    /// <summary>SUBSCRIBE: <c>message channel payload</c>.</summary>
    Message,

    /// <summary>PSUBSCRIBE: <c>pmessage pattern channel payload</c>.</summary>
    PatternMessage,

    /// <summary>SSUBSCRIBE (Redis 7): <c>smessage shardchannel payload</c>.</summary>
    ShardMessage,
}

/// <summary>
/// One pub/sub message. The payload is kept as bytes (msgpack for the adapter's broadcasts) and belongs to the
/// handler: it is a fresh array, not a view into the connection's buffer, so it may be kept after the call.
/// </summary>
internal readonly record struct RespMessage(RespMessageKind Kind, string Channel, string? Pattern, ReadOnlyMemory<byte> Payload);

/// <summary>
/// Receives messages on the subscriber's read loop, in the order Redis sent them. It must be quick (hand heavy work
/// to a channel); an exception is logged and the loop goes on.
/// </summary>
internal delegate void RespMessageHandler(in RespMessage message);

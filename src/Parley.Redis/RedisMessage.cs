namespace Parley.Redis;

/// <summary>
/// One pub/sub message: the channel it was published on (for a pattern subscription, the matching channel) and its
/// payload, which the handler may keep (StackExchange.Redis gives each message its own array).
/// </summary>
internal readonly record struct RedisMessage(string Channel, ReadOnlyMemory<byte> Payload);

/// <summary>Handles one message of a subscription; it must be quick (the adapters queue work on their inbox).</summary>
internal delegate void RedisMessageHandler(in RedisMessage message);

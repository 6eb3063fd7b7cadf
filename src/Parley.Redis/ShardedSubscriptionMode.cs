namespace Parley.Redis;

/// <summary>Which rooms the sharded adapter gives their own shard channel (<c>lib/sharded-adapter.ts</c> <c>subscriptionMode</c>).</summary>
public enum ShardedSubscriptionMode
{
    /// <summary>Public rooms (not socket ids) get <c>{prefix}#{nsp}#{room}#</c> while they have a local member (<c>"dynamic"</c>).</summary>
    Dynamic,

    /// <summary>Only the namespace channel and the node's response channel (<c>"static"</c>).</summary>
    Static,

    /// <summary>Every room, socket-id rooms included, gets its own channel (<c>"dynamic-private"</c>).</summary>
    DynamicPrivate,
}

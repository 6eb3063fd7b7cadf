using Microsoft.Extensions.Logging;

namespace Parley.Redis;

/// <summary>The Redis adapter's log messages; event ids 5000–5099.</summary>
internal static partial class RedisLog
{
    // 5000, ConnectFailed - removed: Parley.Resp logged first-connection attempts (3002) since StartConnecting.
    // 5004, SubscribePending - removed: StackExchange.Redis makes subscriptions whenever a subscriber connection comes up.

    [LoggerMessage(5001, LogLevel.Information, "Redis adapter connected ({Kind} connection to {Endpoint})")]
    public static partial void Connected(ILogger logger, string kind, string endpoint);

    [LoggerMessage(5002, LogLevel.Error, "Redis adapter lost its {Kind} connection to {Endpoint}; cross-node traffic stops until it is back")]
    public static partial void Disconnected(ILogger logger, string kind, string endpoint, Exception exception);

    [LoggerMessage(5003, LogLevel.Error, "Redis adapter could not publish to {Channel} on {Endpoint} ({Failed} failed publish(es) since the last report); the message reached local sockets only")]
    public static partial void PublishFailed(ILogger logger, string channel, string endpoint, long failed, Exception exception);

    [LoggerMessage(5005, LogLevel.Warning, "Redis adapter ignored a malformed message on {Channel}")]
    public static partial void MalformedMessage(ILogger logger, string channel, Exception exception);

    [LoggerMessage(5006, LogLevel.Error, "Redis adapter failed handling a message on {Channel}")]
    public static partial void HandlerFailed(ILogger logger, string channel, Exception exception);

    [LoggerMessage(5007, LogLevel.Warning, "Redis adapter could not count the servers of {Namespace}; acting as a single node")]
    public static partial void ServerCountFailed(ILogger logger, string @namespace, Exception exception);

    [LoggerMessage(5008, LogLevel.Debug, "Redis adapter {Uid} serves namespace {Namespace} ({Mode})")]
    public static partial void AdapterStarted(ILogger logger, string uid, string @namespace, string mode);

    [LoggerMessage(5009, LogLevel.Error, "Redis adapter dropped {Dropped} incoming message(s) for {Namespace} since the last report: local delivery is too far behind")]
    public static partial void InboxFull(ILogger logger, string @namespace, long dropped);

    [LoggerMessage(5010, LogLevel.Information, "Redis adapter for {Namespace} is subscribed and ready")]
    public static partial void AdapterReady(ILogger logger, string @namespace);

    [LoggerMessage(5011, LogLevel.Warning, "Redis adapter asks {Endpoint} for the topology again: {Reason}")]
    public static partial void Reconfiguring(ILogger logger, string endpoint, string reason);
}

using Microsoft.Extensions.Logging;

namespace Parley.Resp;

/// <summary>Parley.Resp's log messages; event ids 3000–3099.</summary>
internal static partial class RespLog
{
    [LoggerMessage(3000, LogLevel.Debug, "Connecting the {Kind} connection to {Endpoint}")]
    public static partial void Connecting(this ILogger logger, string kind, string endpoint);

    [LoggerMessage(3001, LogLevel.Information, "The {Kind} connection to {Endpoint} is up")]
    public static partial void Connected(this ILogger logger, string kind, string endpoint);

    [LoggerMessage(3002, LogLevel.Warning, "Connecting the {Kind} connection to {Endpoint} failed (attempt {Attempt}); retrying in {Delay}")]
    public static partial void ReconnectFailed(this ILogger logger, string kind, string endpoint, int attempt, TimeSpan delay, Exception exception);

    [LoggerMessage(3003, LogLevel.Warning, "Lost the {Kind} connection to {Endpoint}; commands fail fast until it is back")]
    public static partial void ConnectionLost(this ILogger logger, string kind, string endpoint, Exception? exception);

    [LoggerMessage(3004, LogLevel.Error, "Redis at {Endpoint} sent bytes that are not RESP; dropping the connection")]
    public static partial void ProtocolError(this ILogger logger, string endpoint, Exception exception);

    [LoggerMessage(3005, LogLevel.Error, "The pub/sub message handler failed for channel {Channel}")]
    public static partial void HandlerFailed(this ILogger logger, string channel, Exception exception);

    [LoggerMessage(3006, LogLevel.Information, "Restored {Count} subscriptions on {Endpoint}")]
    public static partial void Resubscribed(this ILogger logger, int count, string endpoint);

    [LoggerMessage(3007, LogLevel.Error, "A connection state handler threw")]
    public static partial void StateHandlerFailed(this ILogger logger, Exception exception);

    [LoggerMessage(3008, LogLevel.Warning, "Ignored an unexpected reply {Reply} from {Endpoint}")]
    public static partial void UnexpectedReply(this ILogger logger, string reply, string endpoint);

    [LoggerMessage(3009, LogLevel.Error, "Unexpected failure in the {Kind} connection loop")]
    public static partial void LoopFailed(this ILogger logger, string kind, Exception exception);

    [LoggerMessage(3010, LogLevel.Debug, "{Command} got no reply within {Timeout}")]
    public static partial void CommandTimedOut(this ILogger logger, string command, TimeSpan timeout);

    [LoggerMessage(3011, LogLevel.Warning, "Redis at {Endpoint} stopped answering ({Reason}); dropping the connection to reconnect")]
    public static partial void ConnectionHung(this ILogger logger, string endpoint, string reason);

    [LoggerMessage(3012, LogLevel.Debug, "TCP keepalive could not be tuned for {Endpoint}; relying on PING")]
    public static partial void KeepAliveUnsupported(this ILogger logger, string endpoint, Exception exception);
}

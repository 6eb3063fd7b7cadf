using Microsoft.Extensions.Logging;

namespace Parley;

/// <summary>Socket.IO log messages; event ids 2000–2099.</summary>
internal static partial class SocketLog
{
    [LoggerMessage(2000, LogLevel.Information, "Socket.IO client {Sid}: invalid packet ({Error}), closing")]
    public static partial void InvalidPacket(ILogger logger, string sid, string error);

    [LoggerMessage(2001, LogLevel.Information, "Socket.IO client {Sid}: packet in an invalid state ({Detail}), closing")]
    public static partial void InvalidState(ILogger logger, string sid, string detail);

    [LoggerMessage(2002, LogLevel.Debug, "Socket.IO client {Sid}: connection to unknown namespace {Namespace} refused")]
    public static partial void InvalidNamespace(ILogger logger, string sid, string @namespace);

    [LoggerMessage(2003, LogLevel.Debug, "Socket.IO client {Sid}: connection to {Namespace} refused by middleware: {Message}")]
    public static partial void MiddlewareRefused(ILogger logger, string sid, string @namespace, string message);

    [LoggerMessage(2004, LogLevel.Error, "Socket.IO socket {SocketId}: handler for '{Event}' failed")]
    public static partial void HandlerFailed(ILogger logger, string socketId, string @event, Exception exception);

    [LoggerMessage(2005, LogLevel.Debug, "Socket.IO socket {SocketId} disconnected: {Reason}")]
    public static partial void Disconnected(ILogger logger, string socketId, string reason);

    [LoggerMessage(2006, LogLevel.Information, "Socket.IO client {Sid}: no namespace joined within connectTimeout, closing")]
    public static partial void ConnectTimeout(ILogger logger, string sid);

    [LoggerMessage(2007, LogLevel.Debug, "Socket.IO socket {SocketId}: ack {AckId} unknown or already answered")]
    public static partial void UnknownAck(ILogger logger, string socketId, long ackId);

    [LoggerMessage(2008, LogLevel.Error, "Socket.IO namespace {Namespace}: a server-side handler for '{Event}' failed")]
    public static partial void ServerHandlerFailed(ILogger logger, string @namespace, string @event, Exception exception);

    [LoggerMessage(2009, LogLevel.Warning, "Socket.IO socket {SocketId}: packet middleware refused '{Event}': {Message}")]
    public static partial void PacketMiddlewareRefused(ILogger logger, string socketId, string @event, string message);

    [LoggerMessage(2010, LogLevel.Error, "Socket.IO client {Sid}: joining namespace {Namespace} failed; answered with connect_error")]
    public static partial void ConnectFailed(ILogger logger, string sid, string @namespace, Exception exception);

    [LoggerMessage(2011, LogLevel.Error, "Socket.IO client {Sid}: the data of a refusal by a middleware of {Namespace} could not be serialized; sent without it")]
    public static partial void RefusalDataFailed(ILogger logger, string sid, string @namespace, Exception exception);

    // 2050–2059: failures a client can trigger at will (docs/security.md "Client faults").
    [LoggerMessage(2050, LogLevel.Warning, "Socket.IO client {Sid}: faulty packet ({Fault}); this connection's later faults are only counted (parley.socketio.client_faults). Connections with a first fault since the last such line: {Count}")]
    public static partial void ClientFault(ILogger logger, string sid, string fault, long count);

    [LoggerMessage(2051, LogLevel.Information, "Socket.IO client {Sid}: {Count} faulty packets, closing")]
    public static partial void TooManyClientFaults(ILogger logger, string sid, int count);

    [LoggerMessage(2052, LogLevel.Error, "Socket.IO socket {SocketId}: handler for '{Event}' failed ({Count} failures of this event's handlers since the last such line, logged at most once a minute)")]
    public static partial void HandlerFailedThrottled(ILogger logger, string socketId, string @event, long count, Exception exception);

    // 2060–2069: connection state recovery.

    [LoggerMessage(2060, LogLevel.Error, "Socket.IO socket {SocketId}: the adapter of {Namespace} failed to persist its session; it cannot be recovered")]
    public static partial void PersistSessionFailed(ILogger logger, string socketId, string @namespace, Exception exception);

    [LoggerMessage(2061, LogLevel.Error, "Socket.IO client {Sid}: the adapter of {Namespace} failed to restore a session; connecting without recovery")]
    public static partial void RestoreSessionFailed(ILogger logger, string sid, string @namespace, Exception exception);

    [LoggerMessage(2062, LogLevel.Debug, "Socket.IO socket {SocketId} of {Namespace}: connection state recovered, {Missed} missed packets replayed")]
    public static partial void SessionRecovered(ILogger logger, string socketId, string @namespace, int missed);
}

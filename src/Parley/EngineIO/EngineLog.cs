using Microsoft.Extensions.Logging;

namespace Parley.EngineIO;

/// <summary>Engine.IO log messages; event ids 1000–1099.</summary>
internal static partial class EngineLog
{
    [LoggerMessage(1000, LogLevel.Debug, "Engine.IO connection {Sid} opened over {Transport}")]
    public static partial void ConnectionOpened(ILogger logger, string sid, EngineTransport transport);

    [LoggerMessage(1001, LogLevel.Debug, "Engine.IO connection {Sid} closed: {Reason}")]
    public static partial void ConnectionClosed(ILogger logger, string sid, string reason);

    [LoggerMessage(1002, LogLevel.Information, "Engine.IO request refused with code {Code} ({Message}): {Method} {Detail}")]
    public static partial void RequestRefused(ILogger logger, int code, string message, string method, string? detail);

    [LoggerMessage(1003, LogLevel.Information, "Engine.IO connection {Sid}: bad request: {Detail}")]
    public static partial void BadRequest(ILogger logger, string sid, string detail);

    [LoggerMessage(1004, LogLevel.Information, "Engine.IO connection {Sid}: bad packet: {Detail}")]
    public static partial void BadPacket(ILogger logger, string sid, string detail);

    [LoggerMessage(1005, LogLevel.Debug, "Engine.IO connection {Sid} upgraded to websocket")]
    public static partial void Upgraded(ILogger logger, string sid);

    [LoggerMessage(1006, LogLevel.Information, "Engine.IO connection {Sid}: upgrade failed: {Detail}")]
    public static partial void UpgradeFailed(ILogger logger, string sid, string detail);

    [LoggerMessage(1007, LogLevel.Debug, "Engine.IO connection {Sid}: transport failed: {Detail}")]
    public static partial void TransportFailed(ILogger logger, string sid, string detail);

    [LoggerMessage(1008, LogLevel.Warning, "Engine.IO connection {Sid}: outgoing buffer over {Limit} bytes, closing")]
    public static partial void OutgoingBufferFull(ILogger logger, string sid, long limit);

    [LoggerMessage(1009, LogLevel.Error, "Engine.IO connection {Sid}: a callback failed")]
    public static partial void CallbackFailed(ILogger logger, string sid, Exception exception);
}

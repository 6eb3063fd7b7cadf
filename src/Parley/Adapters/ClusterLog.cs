using Microsoft.Extensions.Logging;

namespace Parley.Adapters;

/// <summary>The cluster adapter contract's log messages; event ids 2200–2219.</summary>
internal static partial class ClusterLog
{
    [LoggerMessage(2200, LogLevel.Error, "Cluster adapter for {Namespace} could not publish {Type} ({Failed} failed publish(es) since the last report); the other nodes miss it")]
    public static partial void PublishFailed(ILogger logger, string @namespace, ClusterMessageType type, long failed, Exception exception);

    [LoggerMessage(2201, LogLevel.Warning, "Cluster adapter for {Namespace} ignored a malformed {Type} from node {Uid}")]
    public static partial void MalformedMessage(ILogger logger, string @namespace, string uid, ClusterMessageType type, Exception exception);

    [LoggerMessage(2202, LogLevel.Error, "Cluster adapter for {Namespace} dropped server-side events ({Dropped} so far): its handlers are too far behind")]
    public static partial void ServerEventsDropped(ILogger logger, string @namespace, long dropped);

    [LoggerMessage(2203, LogLevel.Warning, "Cluster adapter for {Namespace}: more than {Limit} broadcasts arrived while socket {SocketId} was being restored; closing it so that it recovers again from its last packet")]
    public static partial void RestoreCaptureOverflowed(ILogger logger, string @namespace, string socketId, int limit);
}

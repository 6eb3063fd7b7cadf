using Microsoft.Extensions.Logging;

namespace Parley.Redis;

/// <summary>The Redis Streams adapter's log messages; event ids 5050–5069.</summary>
internal static partial class StreamsLog
{
    [LoggerMessage(5050, LogLevel.Error, "Redis Streams adapter cannot read stream {Stream} on {Endpoint} ({Failed} failed read(s) since the last report); it resumes from entry {LastId} when Redis is back")]
    public static partial void ReadFailed(ILogger logger, string stream, string endpoint, long failed, string lastId, Exception exception);

    [LoggerMessage(5051, LogLevel.Information, "Redis Streams adapter reads stream {Stream} from entry {LastId}")]
    public static partial void Reading(ILogger logger, string stream, string lastId);

    [LoggerMessage(5052, LogLevel.Warning, "Redis Streams adapter ignored a malformed entry {Id} of stream {Stream}")]
    public static partial void MalformedEntry(ILogger logger, string id, string stream, Exception? exception);

    [LoggerMessage(5053, LogLevel.Debug, "Redis Streams adapter {Uid} serves namespace {Namespace} on stream {Stream}")]
    public static partial void AdapterStarted(ILogger logger, string uid, string @namespace, string stream);
}

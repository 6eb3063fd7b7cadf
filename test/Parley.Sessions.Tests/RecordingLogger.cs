using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Parley.Sessions.Tests;

/// <summary>A logger of one manager that keeps the event ids it was given, for tests of which line is written.</summary>
internal sealed class RecordingLogger : ILogger<ParleySessionManager>
{
    private readonly ConcurrentQueue<int> _eventIds = new();

    public int[] EventIds => [.. _eventIds];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _eventIds.Enqueue(eventId.Id);
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Parley.Testing;

/// <summary>
/// Collects log lines of test hosts so tests can assert that bad input was logged; also echoes warnings and
/// errors to the console to make CI failures readable.
/// </summary>
public sealed class TestLog : ILoggerProvider
{
    /// <summary>The process-wide provider added to every <see cref="TestWebHost"/>.</summary>
    public static readonly TestLog Provider = new();

    private readonly ConcurrentQueue<LogEntry> _entries = new();

    /// <summary>Everything logged so far (bounded to the last 20,000 entries).</summary>
    public IReadOnlyCollection<LogEntry> Entries => _entries;

    /// <summary>True when some entry's message contains <paramref name="text"/>.</summary>
    public static bool Contains(string text) => Provider._entries.Any(e => e.Message.Contains(text, StringComparison.OrdinalIgnoreCase));

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private void Add(LogEntry entry)
    {
        _entries.Enqueue(entry);
        while (_entries.Count > 20_000 && _entries.TryDequeue(out _))
        {
        }
    }

    /// <summary>One log line.</summary>
    public sealed record LogEntry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception);

    private sealed class Logger(TestLog owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            owner.Add(new LogEntry(category, logLevel, eventId, message, exception));
        }
    }
}

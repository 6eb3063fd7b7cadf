using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Parley.Sessions.Diagnostics;

/// <summary>
/// The <c>Parley.Sessions</c> meter: session store operations and their latency, measured where the session layer
/// calls the store (every store, ours or an application's, is measured the same way). Registered by
/// <c>AddParleySessions</c>; the instruments are listed in docs/metrics.md.
/// </summary>
public sealed class SessionMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Parley.Sessions";

    private static readonly Lazy<SessionMetrics> s_shared = new(() => new SessionMetrics(new Meter(MeterName)));

    // Indexed by SessionStoreOperation.
    private static readonly KeyValuePair<string, object?>[] s_operations =
    [
        new("parley.session.operation", "get"),
        new("parley.session.operation", "set"),
        new("parley.session.operation", "touch"),
        new("parley.session.operation", "destroy"),
    ];

    private static readonly KeyValuePair<string, object?> s_ok = new("parley.session.outcome", "ok");
    private static readonly KeyValuePair<string, object?> s_notFound = new("parley.session.outcome", "not_found");
    private static readonly KeyValuePair<string, object?> s_error = new("parley.session.outcome", "error");

    private readonly Meter _meter;
    private readonly Counter<long> _operations;
    private readonly Histogram<double> _duration;

    /// <summary>Creates the meter through <paramref name="meterFactory"/> (what <c>AddParleySessions</c> does).</summary>
    public SessionMetrics(IMeterFactory meterFactory)
        : this((meterFactory ?? throw new ArgumentNullException(nameof(meterFactory))).Create(MeterName))
    {
    }

    private SessionMetrics(Meter meter)
    {
        _meter = meter;
        _operations = meter.CreateCounter<long>("parley.sessions.store.operations", "{operation}",
            "Session store operations, by operation (get, set, touch, destroy) and outcome (ok, not_found, error).");
        _duration = meter.CreateHistogram("parley.sessions.store.duration", "s",
            "How long session store operations took, by operation and outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
    }

    /// <summary>The instance used by a session manager not created through DI.</summary>
    internal static SessionMetrics Shared => s_shared.Value;

    /// <summary>The meter.</summary>
    public Meter Meter => _meter;

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();

    internal void Record(SessionStoreOperation operation, long startedTimestamp, bool? found)
    {
        var outcome = found switch
        {
            null => s_error,
            true => s_ok,
            false => s_notFound,
        };
        _operations.Add(1, s_operations[(int)operation], outcome);
        if (_duration.Enabled)
        {
            _duration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds, s_operations[(int)operation], outcome);
        }
    }
}

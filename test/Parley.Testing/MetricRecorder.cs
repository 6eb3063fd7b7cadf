using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Parley.Testing;

/// <summary>
/// Listens to the instruments of one <see cref="Meter"/> (the one a test host's <c>IMeterFactory</c> created, so
/// other hosts in the same test process never count here) and keeps every measurement: counters and histograms as
/// lists, observable instruments as their latest observation (<see cref="Observe"/>).
/// </summary>
public sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, double Value, KeyValuePair<string, object?>[] Tags)> _measurements = new();
    private readonly ConcurrentDictionary<string, Instrument> _instruments = new(StringComparer.Ordinal);
    private List<(string Instrument, double Value, KeyValuePair<string, object?>[] Tags)> _observed = [];
    private bool _observing;

    /// <summary>Starts listening to every instrument of <paramref name="meter"/>.</summary>
    public MetricRecorder(Meter meter)
    {
        ArgumentNullException.ThrowIfNull(meter);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                _instruments[instrument.Name] = instrument;
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Add(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
        _listener.Start();
    }

    /// <summary>The names of the meter's instruments.</summary>
    public IReadOnlyCollection<string> Instruments => [.. _instruments.Keys];

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var entry = (instrument.Name, value, tags.ToArray());
        if (instrument.IsObservable)
        {
            lock (_measurements)
            {
                if (_observing)
                {
                    _observed.Add(entry);
                }
            }
            return;
        }
        _measurements.Enqueue(entry);
    }

    /// <summary>Collects the observable instruments now; their values replace the previous observation.</summary>
    public void Observe()
    {
        lock (_measurements)
        {
            _observing = true;
            _observed = [];
        }
        _listener.RecordObservableInstruments();
        lock (_measurements)
        {
            _observing = false;
        }
    }

    private IEnumerable<(string Instrument, double Value, KeyValuePair<string, object?>[] Tags)> Matching(string instrument, (string Key, object? Value)[] tags)
    {
        List<(string Instrument, double Value, KeyValuePair<string, object?>[] Tags)> observed;
        lock (_measurements)
        {
            observed = _observed;
        }
        return _measurements.Concat(observed).Where(m => m.Instrument == instrument &&
            tags.All(t => m.Tags.Any(mt => mt.Key == t.Key && Equals(mt.Value?.ToString(), t.Value?.ToString()))));
    }

    /// <summary>The sum of the measurements of <paramref name="instrument"/> that carry every tag given.</summary>
    public double Sum(string instrument, params (string Key, object? Value)[] tags) => Matching(instrument, tags).Sum(m => m.Value);

    /// <summary>How many measurements of <paramref name="instrument"/> carry every tag given.</summary>
    public int Count(string instrument, params (string Key, object? Value)[] tags) => Matching(instrument, tags).Count();

    /// <summary>The values of <paramref name="instrument"/> measured with every tag given.</summary>
    public List<double> Values(string instrument, params (string Key, object? Value)[] tags) => [.. Matching(instrument, tags).Select(m => m.Value)];

    /// <summary>Waits until <paramref name="condition"/> holds (observing the observable instruments before each look).</summary>
    public Task WaitAsync(Func<MetricRecorder, bool> condition, string because) =>
        TestTimeouts.Eventually(() =>
        {
            Observe();
            return condition(this);
        }, because: because);

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();
}

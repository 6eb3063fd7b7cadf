using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using Parley.Diagnostics;

namespace Parley.AdminUI;

/// <summary>
/// The admin UI's <c>aggregatedEvents</c> (lib/index.ts EventBuffer: counts per second and type), read from the
/// host's <c>Parley</c> meter rather than from hooks of its own: <c>rawConnection</c> from handshakes,
/// <c>rawDisconnection</c> (by close reason) from connection durations, <c>packetsIn/Out</c> and <c>bytesIn/Out</c>
/// from the Engine.IO packet and byte counters.
/// </summary>
internal sealed class AdminUIEventBuffer : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Lock _lock = new();
    private Dictionary<(long Second, string Type, string? SubType), long> _counts = [];

    public AdminUIEventBuffer(Meter meter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter) && instrument.Name is "parley.engineio.handshakes"
                or "parley.engineio.connection.duration" or "parley.engineio.packets" or "parley.engineio.bytes")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => OnMeasurement(instrument.Name, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) => OnMeasurement(instrument.Name, 1, tags));
        _listener.Start();
    }

    private void OnMeasurement(string instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string type;
        string? subType = null;
        switch (instrument)
        {
            case "parley.engineio.handshakes":
                type = "rawConnection";
                break;
            case "parley.engineio.connection.duration":
                type = "rawDisconnection";
                subType = Tag(tags, "engineio.close.reason");
                break;
            default:
                var receive = Tag(tags, "network.io.direction") == "receive";
                type = instrument == "parley.engineio.packets" ? (receive ? "packetsIn" : "packetsOut") : (receive ? "bytesIn" : "bytesOut");
                break;
        }
        var second = DateTimeOffset.UtcNow.ToUnixTimeSeconds() * 1000;
        lock (_lock)
        {
            _counts[(second, type, subType)] = _counts.GetValueOrDefault((second, type, subType)) + value;
        }
    }

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == key)
            {
                return tag.Value as string;
            }
        }
        return null;
    }

    /// <summary>The counts since the last call, as <c>[{timestamp, type, subType?, count}]</c> (getValuesAndClear).</summary>
    public JsonArray TakeAll()
    {
        Dictionary<(long Second, string Type, string? SubType), long> counts;
        lock (_lock)
        {
            counts = _counts;
            _counts = [];
        }
        var array = new JsonArray();
        foreach (var ((second, type, subType), count) in counts)
        {
            var entry = new JsonObject { ["timestamp"] = second, ["type"] = type, ["count"] = count };
            if (subType is not null)
            {
                entry["subType"] = subType;
            }
            array.Add(entry);
        }
        return array;
    }

    public void Dispose() => _listener.Dispose();
}

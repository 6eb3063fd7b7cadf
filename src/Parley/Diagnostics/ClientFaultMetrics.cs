using System.Diagnostics.Metrics;

namespace Parley.Diagnostics;

/// <summary>
/// Counts failures a client can trigger at will (malformed packets, arguments of the wrong type): they are
/// logged once per connection, so the metric is where their volume shows.
/// </summary>
internal static class ClientFaultMetrics
{
    /// <summary>Meter name shared with Parley's other instruments.</summary>
    public const string MeterName = "Parley";

    private static readonly Meter s_meter = new(MeterName);

    /// <summary>One per fault; tag <c>parley.fault</c>: <c>invalid_packet</c>, <c>invalid_argument</c>.</summary>
    public static readonly Counter<long> Faults = s_meter.CreateCounter<long>(
        "parley.socketio.client_faults", "{fault}", "Packets from clients that were malformed or could not be read as the handler asked");

    /// <summary>Connections closed because they sent more faults than <see cref="ParleyOptions.MaxClientFaults"/>.</summary>
    public static readonly Counter<long> Closes = s_meter.CreateCounter<long>(
        "parley.socketio.client_fault_closes", "{connection}", "Connections closed for sending too many faulty packets");

    public static void Add(string kind) => Faults.Add(1, new KeyValuePair<string, object?>("parley.fault", kind));
}

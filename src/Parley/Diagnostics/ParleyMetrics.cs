using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Parley.EngineIO;

namespace Parley.Diagnostics;

/// <summary>
/// The <c>Parley</c> meter: Engine.IO connections and traffic, Socket.IO sockets, broadcasts and acks. Registered
/// by <c>AddParley</c> (created through <see cref="IMeterFactory"/>, so each host has its own meter); names follow
/// OpenTelemetry's conventions and are listed in docs/metrics.md.
/// </summary>
/// <remarks>
/// Every recording is a counter add with zero to two tags taken from static tables, so nothing allocates; with no
/// listener an instrument's add is a flag check. A broadcast is counted once with its number of deliveries, never
/// once per recipient. Pending acks are observed at collection time (summed over sockets), so the ack path itself
/// records nothing.
/// </remarks>
public sealed class ParleyMetrics : IDisposable
{
    /// <summary>The meter's name, to subscribe to (<c>AddMeter(ParleyMetrics.MeterName)</c>).</summary>
    public const string MeterName = "Parley";

    private static readonly Lazy<ParleyMetrics> s_shared = new(() => new ParleyMetrics(new Meter(MeterName)));

    private static readonly KeyValuePair<string, object?> s_polling = new("engineio.transport", "polling");
    private static readonly KeyValuePair<string, object?> s_websocket = new("engineio.transport", "websocket");
    private static readonly KeyValuePair<string, object?> s_receive = new("network.io.direction", "receive");
    private static readonly KeyValuePair<string, object?> s_transmit = new("network.io.direction", "transmit");
    private static readonly KeyValuePair<string, object?> s_bufferFull = new("parley.drop.reason", "buffer_full");
    private static readonly KeyValuePair<string, object?> s_notWritable = new("parley.drop.reason", "volatile_not_writable");

    // Indexed by EngineError: engine.io's error codes 0..5 (server.ts Server.errors).
    private static readonly KeyValuePair<string, object?>[] s_engineErrors =
    [
        new("error.type", "unknown_transport"),
        new("error.type", "unknown_sid"),
        new("error.type", "bad_handshake_method"),
        new("error.type", "bad_request"),
        new("error.type", "forbidden"),
        new("error.type", "unsupported_protocol_version"),
    ];

    private readonly Meter _meter;
    private readonly ConcurrentDictionary<ParleyServer, byte> _servers = new();
    private readonly UpDownCounter<long> _engineConnections;
    private readonly Counter<long> _engineHandshakes;
    private readonly Counter<long> _engineRefused;
    private readonly Counter<long> _engineUpgrades;
    private readonly Histogram<double> _engineDuration;
    private readonly Counter<long> _enginePackets;
    private readonly Counter<long> _engineBytes;
    private readonly Counter<long> _engineDrops;
    private readonly UpDownCounter<long> _socketConnections;
    private readonly Counter<long> _socketConnects;
    private readonly Counter<long> _socketConnectErrors;
    private readonly Counter<long> _broadcasts;
    private readonly Counter<long> _deliveries;
    private readonly Counter<long> _ackTimeouts;
    private readonly Counter<long> _recoveryEvictions;
    private readonly Counter<long> _recoveryAttempts;

    /// <summary>Creates the meter through <paramref name="meterFactory"/> (what <c>AddParley</c> does).</summary>
    public ParleyMetrics(IMeterFactory meterFactory)
        : this((meterFactory ?? throw new ArgumentNullException(nameof(meterFactory))).Create(MeterName))
    {
    }

    private ParleyMetrics(Meter meter)
    {
        _meter = meter;
        _engineConnections = meter.CreateUpDownCounter<long>("parley.engineio.connections", "{connection}",
            "Engine.IO connections open now, by transport.");
        _engineHandshakes = meter.CreateCounter<long>("parley.engineio.handshakes", "{handshake}",
            "Engine.IO handshakes accepted, by the transport they opened on.");
        _engineRefused = meter.CreateCounter<long>("parley.engineio.requests.refused", "{request}",
            "Engine.IO requests refused with an engine.io error (handshakes and requests for a session), by error.");
        _engineUpgrades = meter.CreateCounter<long>("parley.engineio.upgrades", "{upgrade}",
            "Connections upgraded from polling to WebSocket.");
        _engineDuration = meter.CreateHistogram("parley.engineio.connection.duration", "s",
            "How long Engine.IO connections lasted, by final transport and close reason.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.1, 1, 5, 30, 60, 300, 900, 3600, 14400, 86400] });
        _enginePackets = meter.CreateCounter<long>("parley.engineio.packets", "{packet}",
            "Engine.IO packets received and sent, by transport and direction.");
        _engineBytes = meter.CreateCounter<long>("parley.engineio.bytes", "By",
            "Engine.IO packet bytes received and sent (packet frames, without the polling payload's separators), by transport and direction.");
        _engineDrops = meter.CreateCounter<long>("parley.engineio.outgoing.drops", "{drop}",
            "Outgoing packets dropped: a connection closed because its outgoing buffer was full, or a volatile emit to a connection that was not writable.");
        _socketConnections = meter.CreateUpDownCounter<long>("parley.socketio.connections", "{socket}",
            "Socket.IO sockets connected now, by namespace.");
        _socketConnects = meter.CreateCounter<long>("parley.socketio.connects", "{socket}",
            "Socket.IO namespace connections accepted, by namespace.");
        _socketConnectErrors = meter.CreateCounter<long>("parley.socketio.connect_errors", "{socket}",
            "Socket.IO namespace connections refused with a CONNECT_ERROR, by reason.");
        _broadcasts = meter.CreateCounter<long>("parley.socketio.broadcasts", "{broadcast}",
            "Broadcasts delivered by this node (its own and those received from other nodes).");
        _deliveries = meter.CreateCounter<long>("parley.socketio.broadcast.deliveries", "{delivery}",
            "Sockets reached by this node's broadcasts (one per recipient socket).");
        _ackTimeouts = meter.CreateCounter<long>("parley.socketio.acks.timeouts", "{ack}",
            "Acknowledgements given up on: an emit or a broadcast with acks timed out before the client answered.");
        _recoveryEvictions = meter.CreateCounter<long>("parley.socketio.recovery.evictions", "{packet}",
            "Packets kept for connection state recovery that were evicted before they expired, because the namespace's log was full (count or bytes).");
        _recoveryAttempts = meter.CreateCounter<long>("parley.socketio.recovery.attempts", "{socket}",
            "Reconnections that asked for connection state recovery, by result.");
        meter.CreateObservableUpDownCounter("parley.socketio.acks.pending", ObservePendingAcks, "{ack}",
            "Acknowledgements the server waits for from clients now.");
    }

    /// <summary>
    /// The instance a server uses when it was not created by <c>AddParley</c> (a meter named <c>Parley</c> without
    /// a scope, shared by all such servers).
    /// </summary>
    internal static ParleyMetrics Shared => s_shared.Value;

    /// <summary>The meter.</summary>
    public Meter Meter => _meter;

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();

    internal void Observe(ParleyServer server) => _servers.TryAdd(server, 0);

    internal void Forget(ParleyServer server) => _servers.TryRemove(server, out _);

    private long ObservePendingAcks()
    {
        long total = 0;
        foreach (var server in _servers.Keys)
        {
            foreach (var nsp in server.Namespaces)
            {
                foreach (var socket in nsp.SocketsById.Values)
                {
                    total += socket.PendingAckCount;
                }
            }
        }
        return total;
    }

    private static KeyValuePair<string, object?> Tag(EngineTransport transport) =>
        transport == EngineTransport.WebSocket ? s_websocket : s_polling;

    // ---- Engine.IO ----

    internal void EngineOpened(EngineTransport transport)
    {
        _engineHandshakes.Add(1, Tag(transport));
        _engineConnections.Add(1, Tag(transport));
    }

    internal void EngineRefused(EngineError error) => _engineRefused.Add(1, s_engineErrors[(int)error]);

    internal void EngineUpgraded()
    {
        _engineUpgrades.Add(1);
        _engineConnections.Add(-1, s_polling);
        _engineConnections.Add(1, s_websocket);
    }

    /// <summary><paramref name="reason"/> is one of <see cref="EngineCloseReasons"/>: a closed set, safe as a tag.</summary>
    internal void EngineClosed(EngineTransport transport, TimeSpan lifetime, string reason)
    {
        _engineConnections.Add(-1, Tag(transport));
        if (_engineDuration.Enabled)
        {
            _engineDuration.Record(lifetime.TotalSeconds, Tag(transport), new KeyValuePair<string, object?>("engineio.close.reason", reason));
        }
    }

    internal void EngineReceived(EngineTransport transport, int bytes)
    {
        _enginePackets.Add(1, Tag(transport), s_receive);
        _engineBytes.Add(bytes, Tag(transport), s_receive);
    }

    /// <summary>A transport wrote a batch: counted once per write, not per packet.</summary>
    internal void EngineSent(EngineTransport transport, int packets, long bytes)
    {
        _enginePackets.Add(packets, Tag(transport), s_transmit);
        _engineBytes.Add(bytes, Tag(transport), s_transmit);
    }

    internal void OutgoingBufferFull() => _engineDrops.Add(1, s_bufferFull);

    internal void VolatileDropped() => _engineDrops.Add(1, s_notWritable);

    // ---- Socket.IO ----

    internal void SocketConnected(string nsp)
    {
        var tag = new KeyValuePair<string, object?>("socketio.namespace", nsp);
        _socketConnects.Add(1, tag);
        _socketConnections.Add(1, tag);
    }

    internal void SocketDisconnected(string nsp) => _socketConnections.Add(-1, new KeyValuePair<string, object?>("socketio.namespace", nsp));

    /// <summary><paramref name="reason"/> is a fixed word (middleware, invalid_namespace, server_error, timeout), never a client's text.</summary>
    internal void ConnectRefused(string reason) => _socketConnectErrors.Add(1, new KeyValuePair<string, object?>("error.type", reason));

    /// <summary>One broadcast delivered to <paramref name="deliveries"/> local sockets.</summary>
    internal void Broadcast(int deliveries)
    {
        _broadcasts.Add(1);
        if (deliveries > 0)
        {
            _deliveries.Add(deliveries);
        }
    }

    internal void AcksTimedOut(int count)
    {
        if (count > 0)
        {
            _ackTimeouts.Add(count);
        }
    }

    internal void RecoveryEvicted(int count)
    {
        if (count > 0)
        {
            _recoveryEvictions.Add(count);
        }
    }

    /// <summary><paramref name="result"/> is a fixed word (recovered, unknown_session, expired, unknown_offset, error).</summary>
    internal void RecoveryAttempt(string result) => _recoveryAttempts.Add(1, new KeyValuePair<string, object?>("parley.recovery.result", result));
}

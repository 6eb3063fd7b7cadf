using Microsoft.Extensions.DependencyInjection;
using Parley.Diagnostics;
using Parley.Testing;
using Parley.Tests.SocketIO;

namespace Parley.Tests.Diagnostics;

/// <summary>
/// The <c>Parley</c> meter on one node, read with a <see cref="System.Diagnostics.Metrics.MeterListener"/> while the
/// official socket.io-client connects over each transport, upgrades, receives broadcasts, leaves acks unanswered and
/// is refused; the last assertion checks that every instrument of the meter was looked at.
/// </summary>
public sealed class MetricsTests
{
    private const string Connections = "parley.engineio.connections";
    private const string Handshakes = "parley.engineio.handshakes";
    private const string Refused = "parley.engineio.requests.refused";
    private const string Upgrades = "parley.engineio.upgrades";
    private const string Duration = "parley.engineio.connection.duration";
    private const string Packets = "parley.engineio.packets";
    private const string Bytes = "parley.engineio.bytes";
    private const string Drops = "parley.engineio.outgoing.drops";
    private const string Sockets = "parley.socketio.connections";
    private const string Connects = "parley.socketio.connects";
    private const string ConnectErrors = "parley.socketio.connect_errors";
    private const string Broadcasts = "parley.socketio.broadcasts";
    private const string Deliveries = "parley.socketio.broadcast.deliveries";
    private const string AcksPending = "parley.socketio.acks.pending";
    private const string AckTimeouts = "parley.socketio.acks.timeouts";

    // Measured with recovery on, in RecoveryTests (an evicted offset, its failed recovery).
    private const string RecoveryEvictions = "parley.socketio.recovery.evictions";
    private const string RecoveryAttempts = "parley.socketio.recovery.attempts";

    private static readonly (string, object?) s_polling = ("engineio.transport", "polling");
    private static readonly (string, object?) s_websocket = ("engineio.transport", "websocket");
    private static readonly (string, object?) s_receive = ("network.io.direction", "receive");
    private static readonly (string, object?) s_transmit = ("network.io.direction", "transmit");

    [Fact]
    public async Task Every_instrument_measures_real_traffic_from_the_official_client()
    {
        await using var host = await SioHost.StartAsync(
            io =>
            {
                io.OnConnection(socket => socket.On("echo", e => e.AckAsync(e.Get<string>(0))));
                io.Of("/private").Use((_, _) => throw new ParleyConnectionRefusedException("members only"));
            },
            // Small enough that one 300 kB emit overflows it; far above what the rest of the test sends.
            o => o.Engine.MaxOutgoingBufferSize = 200_000);
        var meter = host.Web.Services.GetRequiredService<ParleyMetrics>().Meter;
        using var metrics = new MetricRecorder(meter);

        // Connections, handshakes and the upgrade.
        var upgraded = await host.ConnectAsync("upgrade");
        var polling = await host.ConnectAsync("polling");
        var websocket = await host.ConnectAsync("websocket");
        await metrics.WaitAsync(m => m.Sum(Connections, s_websocket) == 2 && m.Sum(Connections, s_polling) == 1, "2 websocket and 1 polling connection");
        Assert.Equal(2, metrics.Sum(Handshakes, s_polling));
        Assert.Equal(1, metrics.Sum(Handshakes, s_websocket));
        Assert.Equal(1, metrics.Sum(Upgrades));
        Assert.Equal(3, metrics.Sum(Sockets, ("socketio.namespace", "/")));
        Assert.Equal(3, metrics.Sum(Connects, ("socketio.namespace", "/")));

        // Packets and bytes both ways, on both transports.
        Assert.Equal("hi", (await polling.EmitWithAckAsync("echo", ["hi"]))!.GetValue<string>());
        Assert.Equal("hi", (await websocket.EmitWithAckAsync("echo", ["hi"]))!.GetValue<string>());
        foreach (var transport in new[] { s_polling, s_websocket })
        {
            foreach (var direction in new[] { s_receive, s_transmit })
            {
                Assert.True(metrics.Sum(Packets, transport, direction) >= 2, $"{Packets} {transport} {direction}");
                Assert.True(metrics.Sum(Bytes, transport, direction) >= metrics.Sum(Packets, transport, direction), $"{Bytes} {transport} {direction}");
            }
        }

        // One broadcast, counted once with its three deliveries.
        await host.Io.EmitAsync("news", "hello");
        foreach (var client in new[] { upgraded, polling, websocket })
        {
            await client.NextAsync("news");
        }
        Assert.Equal(1, metrics.Sum(Broadcasts));
        Assert.Equal(3, metrics.Sum(Deliveries));

        // Acks: pending while the client has not answered (it has no handler), then one that times out.
        using (var cancel = new CancellationTokenSource())
        {
            var waiting = websocket.Socket.EmitWithAckAsync("unanswered", [1], cancellationToken: cancel.Token);
            await metrics.WaitAsync(m => m.Sum(AcksPending) == 1, "one pending ack");
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting).WithTimeout();
            await metrics.WaitAsync(m => m.Sum(AcksPending) == 0, "no pending ack");
        }
        await Assert.ThrowsAsync<TimeoutException>(() => websocket.Socket.EmitWithAckAsync("unanswered", [2], TimeSpan.FromMilliseconds(200))).WithTimeout();
        Assert.Equal(1, metrics.Sum(AckTimeouts));

        // Engine.IO refusals, by error.
        using (var http = new HttpClient { Timeout = TestTimeouts.Default })
        {
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, (await http.GetAsync(host.Url + "/socket.io/?EIO=4&transport=carrier-pigeon")).StatusCode);
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, (await http.GetAsync(host.Url + "/socket.io/?EIO=3&transport=polling")).StatusCode);
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, (await http.GetAsync(host.Url + "/socket.io/?EIO=4&transport=polling&sid=nope")).StatusCode);
        }
        Assert.Equal(1, metrics.Sum(Refused, ("error.type", "unknown_transport")));
        Assert.Equal(1, metrics.Sum(Refused, ("error.type", "unsupported_protocol_version")));
        Assert.Equal(1, metrics.Sum(Refused, ("error.type", "unknown_sid")));

        // Socket.IO refusals, by reason (never the client's namespace name or the middleware's message).
        await Assert.ThrowsAsync<InvalidOperationException>(() => host.ConnectAsync("websocket", path: "/private"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => host.ConnectAsync("websocket", path: "/nowhere"));
        await metrics.WaitAsync(m => m.Sum(ConnectErrors, ("error.type", "middleware")) == 1 && m.Sum(ConnectErrors, ("error.type", "invalid_namespace")) == 1, "two connect errors");

        // An emit larger than the outgoing buffer closes that connection and counts a drop.
        await websocket.Socket.EmitAsync("huge", new string('x', 300_000));
        await metrics.WaitAsync(m => m.Sum(Drops, ("parley.drop.reason", "buffer_full")) == 1, "a buffer-full drop");

        // Its connection ended: one duration, with the transport it ended on and why.
        await metrics.WaitAsync(m => m.Count(Duration, s_websocket, ("engineio.close.reason", "transport error")) == 1, "the dropped connection's duration");
        await polling.DisconnectAsync();
        await metrics.WaitAsync(m => m.Count(Duration, s_polling, ("engineio.close.reason", "transport close")) == 1, "the polling client's duration");
        Assert.All(metrics.Values(Duration), seconds => Assert.InRange(seconds, 0, TestTimeouts.Default.TotalSeconds * 10));
        await metrics.WaitAsync(m => m.Sum(Sockets, ("socketio.namespace", "/")) == 1, "one socket left on /");

        Assert.Equal(
            new[] { AcksPending, AckTimeouts, Broadcasts, Bytes, ConnectErrors, Connections, Connects, Deliveries, Drops, Duration, Handshakes, Packets, Refused, Sockets, Upgrades, RecoveryEvictions, RecoveryAttempts }.Order(),
            metrics.Instruments.Order());
    }
}

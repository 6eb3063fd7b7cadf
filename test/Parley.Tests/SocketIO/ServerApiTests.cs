using Parley.Adapters;
using Parley.Serialization;
using Parley.Testing;

namespace Parley.Tests.SocketIO;

/// <summary>Broadcasts with acks on one node with the in-memory adapter, against the official socket.io-client.</summary>
public sealed class ServerApiTests : IAsyncLifetime
{
    private SioHost _host = null!;

    public async Task InitializeAsync() => _host = await SioHost.StartAsync(_ => { });

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    [Fact]
    public async Task A_broadcast_ack_that_times_out_or_is_cancelled_leaves_no_pending_ack()
    {
        var (answering, silent) = (await _host.ConnectAsync("websocket"), await _host.ConnectAsync("websocket"));
        await answering.AckWithAsync("poll", "yes");
        answering.Socket.Join("pair");
        silent.Socket.Join("pair");

        var error = await Assert.ThrowsAsync<TimeoutException>(() =>
            _host.Io.To("pair").Timeout(TimeSpan.FromMilliseconds(300)).EmitWithAckAsync("poll", []).WithTimeout());
        Assert.Equal("operation has timed out", error.Message);
        Assert.Equal(0, silent.Socket.PendingAckCount);
        Assert.Equal(0, answering.Socket.PendingAckCount);

        using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _host.Io.To("pair").EmitWithAckAsync("poll", [], cts.Token).WithTimeout());
        }
        Assert.Equal(0, silent.Socket.PendingAckCount);

        // A node that serves another node's broadcast (the adapter called directly, as a cluster adapter does)
        // drops the acks still pending when the timeout in the flags passes.
        var packet = new BroadcastPacket("/", SocketPayload.Create("poll", [], _host.Io.WireOptions));
        var options = new BroadcastOptions(new HashSet<string> { "pair" }, flags: new BroadcastFlags { Timeout = TimeSpan.FromMilliseconds(300) });
        var acked = 0;
        Assert.Equal(2, _host.Io.Sockets.Adapter.BroadcastWithAckLocal(packet, options, _ => Interlocked.Increment(ref acked)));
        await TestTimeouts.Eventually(() => silent.Socket.PendingAckCount == 0, because: "the ack is dropped after the timeout");
        await TestTimeouts.Eventually(() => Volatile.Read(ref acked) == 1, because: "the answering client's ack");
    }
}

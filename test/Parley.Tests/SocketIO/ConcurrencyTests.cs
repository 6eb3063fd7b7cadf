using Parley.Testing;

namespace Parley.Tests.SocketIO;

/// <summary>Many threads writing to one client at once, read by the official socket.io-client.</summary>
public sealed class ConcurrencyTests : IAsyncLifetime
{
    private SioHost _host = null!;

    // A calm heartbeat: the client is busy decoding thousands of events, and a late pong is not what is tested.
    public async Task InitializeAsync() => _host = await SioHost.StartAsync(_ => { }, o =>
    {
        o.Engine.PingInterval = TimeSpan.FromSeconds(10);
        o.Engine.PingTimeout = TimeSpan.FromSeconds(20);
    });

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    private static byte[] Bytes(int thread, int i, int part) => [(byte)thread, (byte)(i >> 8), (byte)i, (byte)part, .. Enumerable.Repeat((byte)(thread ^ i), 32)];

    [Theory]
    [InlineData("polling")]
    [InlineData("websocket")]
    public async Task Binary_emits_from_many_threads_arrive_whole(string transport)
    {
        // Each binary event is a text header and nine binary frames; a header from another thread between them
        // breaks the client's decoder ("got plaintext data when reconstructing a packet") and it disconnects.
        const int threads = 8;
        const int perThread = 600;
        const int parts = 8;
        var c = await _host.ConnectAsync(transport);
        using var start = new Barrier(threads);
        var senders = Enumerable.Range(0, threads).Select(t => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < perThread; i++)
            {
                _ = c.Socket.EmitAsync("bin", t, i, Bytes(t, i, 0), new { nested = Enumerable.Range(1, parts).Select(p => Bytes(t, i, p)).ToArray() });
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        await Task.WhenAll(senders).WithTimeout();

        var seen = new HashSet<(int, int)>();
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (seen.Count < threads * perThread)
        {
            foreach (var e in _host.Driver.Drain(c.H))
            {
                Assert.False(e.Event == "disconnect", "the client disconnected: " + e.Data?.ToJsonString());
                if (e.Event != "event")
                {
                    continue;
                }
                var args = e.Data!["args"]!.AsArray();
                var (t, i) = (args[0]!.GetValue<int>(), args[1]!.GetValue<int>());
                Assert.Equal(Bytes(t, i, 0), DriverBinary.Unwrap(args[2]));
                var nested = args[3]!["nested"]!.AsArray();
                Assert.Equal(parts, nested.Count);
                for (var p = 1; p <= parts; p++)
                {
                    Assert.Equal(Bytes(t, i, p), DriverBinary.Unwrap(nested[p - 1]));
                }
                Assert.True(seen.Add((t, i)), $"({t}, {i}) twice");
            }
            Assert.True(DateTime.UtcNow < deadline, $"{seen.Count} of {threads * perThread} events in time");
            await Task.Delay(20);
        }
        Assert.True(c.Socket.Connected);
    }
}

using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Parley.Adapters;
using Parley.Serialization;
using Parley.Testing;

namespace Parley.Tests.SocketIO;

/// <summary>A file as a source-generated type: binary at the top level and nested in an array.</summary>
public sealed record SourceGenUpload(string Name, byte[] Data, byte[][] Parts);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(SourceGenUpload))]
[JsonSerializable(typeof(byte[]))]
internal sealed partial class TestJsonContext : JsonSerializerContext;

/// <summary>
/// The server API on one node with the in-memory adapter, against the official socket.io-client: broadcasts with
/// acks, Local, FetchSockets / SocketsJoin / SocketsLeave / DisconnectSockets and RemoteSocket, Compress(false),
/// per-packet middleware, and source-generated handlers.
/// </summary>
public sealed class ServerApiTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<string> _middlewareErrors = new();
    private readonly ConcurrentQueue<string> _handled = new();
    private SioHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = await SioHost.StartAsync(io => io.OnConnection(socket =>
        {
            // Per-packet middleware: the first refuses "forbidden" by throwing, the second drops "swallowed" by
            // not calling next; both see every event before any handler.
            socket.Use(async (e, next) =>
            {
                if (e.Name == "forbidden")
                {
                    throw new InvalidOperationException("forbidden is not allowed");
                }
                await next();
            });
            socket.Use((e, next) => e.Name == "swallowed" ? Task.CompletedTask : next());
            socket.Error += (s, ex) => _middlewareErrors.Enqueue(s.Id + ":" + ex.Message);
            socket.On("forbidden", _ => _handled.Enqueue("forbidden"));
            socket.On("swallowed", _ => _handled.Enqueue("swallowed"));
            socket.On("allowed", e => e.AckAsync("ok", e.Get<int>(0)));

            socket.On("upload", TestJsonContext.Default.SourceGenUpload, (upload, ack) =>
                ack($"{upload!.Name}:{string.Join(",", upload.Data)}:{string.Join(",", upload.Parts.Select(p => p.Length))}"));
            socket.On("upload-no-ack", TestJsonContext.Default.SourceGenUpload, upload =>
                socket.EmitAsync("uploaded", upload!.Name, upload.Parts[1]));
            socket.On("raw-bytes", e => e.AckAsync(e.Get(0, TestJsonContext.Default.ByteArray)!.Length));
        }));
    }

    public Task DisposeAsync() => _host.DisposeAsync().AsTask();

    public static TheoryData<string> Transports => new() { "polling", "websocket" };

    private async Task<SioHost.Client[]> ConnectManyAsync(string transport, int count)
    {
        var clients = new SioHost.Client[count];
        for (var i = 0; i < count; i++)
        {
            clients[i] = await _host.ConnectAsync(transport);
        }
        return clients;
    }

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

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Source_generated_handlers_read_binary_attachments(string transport)
    {
        var c = await _host.ConnectAsync(transport);
        var upload = new JsonObject
        {
            ["name"] = "f.bin",
            ["data"] = DriverBinary.Wrap([1, 2, 3]),
            ["parts"] = new JsonArray(DriverBinary.Wrap([4]), DriverBinary.Wrap([5, 6])),
        };
        var answer = await _host.Driver.CallAsync("sio.emit", new { h = c.H, @event = "upload", args = new[] { upload }, ack = true });
        Assert.Equal("f.bin:1,2,3:1,2", answer!.GetValue<string>());

        await c.EmitAsync("upload-no-ack", upload.DeepClone());
        var uploaded = await c.NextAsync("uploaded");
        Assert.Equal("f.bin", uploaded[0]!.GetValue<string>());
        Assert.Equal(new byte[] { 5, 6 }, DriverBinary.Unwrap(uploaded[1]));

        Assert.Equal(3, (await c.EmitWithAckAsync("raw-bytes", [DriverBinary.Wrap([7, 8, 9])]))!.GetValue<int>());
    }
}

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
        }), o => o.Engine.HttpCompression = true);
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

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_broadcast_with_acks_collects_every_clients_answer(string transport)
    {
        var clients = await ConnectManyAsync(transport, 3);
        for (var i = 0; i < clients.Length; i++)
        {
            await clients[i].AckWithAsync("poll", "answer-" + i, DriverBinary.Wrap([(byte)i]));
            clients[i].Socket.Join("voters");
        }
        var answers = await _host.Io.To("voters").EmitWithAckAsync("poll", ["question", new byte[] { 9 }]).WithTimeout();
        Assert.Equal(new[] { "answer-0", "answer-1", "answer-2" }, answers.Select(a => a.Get<string>(_host.Io.WireOptions)).Order());
        Assert.All(clients, c => Assert.Equal(0, c.Socket.PendingAckCount));
        var asked = await clients[0].NextAsync("poll");
        Assert.Equal(new byte[] { 9 }, DriverBinary.Unwrap(asked[1]));

        // The same with a timeout that is not reached, and with Local (one node: the same clients).
        answers = await _host.Io.Timeout(TimeSpan.FromSeconds(10)).EmitWithAckAsync("poll", []).WithTimeout();
        Assert.Equal(3, answers.Count);
        answers = await _host.Io.Local.To("voters").EmitWithAckAsync("poll", []).WithTimeout();
        Assert.Equal(3, answers.Count);

        // Nobody in the room: done at once with no answer.
        Assert.Empty(await _host.Io.To("empty-room").EmitWithAckAsync("poll", []).WithTimeout());
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
        // The node drops the pending acks on its own timer for the same timeout, which may run just after the
        // emitter's (socket.io #5442): no ordering between the two is promised.
        await TestTimeouts.Eventually(() => silent.Socket.PendingAckCount == 0 && answering.Socket.PendingAckCount == 0,
            because: "the silent client's ack is dropped at the timeout (and the answering one's, if its answer came late)");

        using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _host.Io.To("pair").EmitWithAckAsync("poll", [], cts.Token).WithTimeout());
        }
        Assert.Equal(0, silent.Socket.PendingAckCount);

        // A node that serves another node's broadcast (the adapter called directly, as a cluster adapter does)
        // drops the acks still pending when the timeout in the flags passes. The timeout leaves the answering
        // client (a Node process on a loaded machine) ample time; the silent one's ack is pending until then.
        var packet = new BroadcastPacket("/", SocketPayload.Create("poll", [], _host.Io.WireOptions));
        var options = new BroadcastOptions(new HashSet<string> { "pair" }, flags: new BroadcastFlags { Timeout = TimeSpan.FromSeconds(4) });
        var acked = 0;
        Assert.Equal(2, _host.Io.Sockets.Adapter.BroadcastWithAckLocal(packet, options, _ => Interlocked.Increment(ref acked)));
        await TestTimeouts.Eventually(() => Volatile.Read(ref acked) == 1, because: "the answering client's ack");
        Assert.Equal(1, silent.Socket.PendingAckCount);
        await TestTimeouts.Eventually(() => silent.Socket.PendingAckCount == 0, because: "the ack is dropped after the timeout");
        Assert.Equal(1, Volatile.Read(ref acked));
    }

    [Fact]
    public async Task Local_emit_and_fetch_reach_this_nodes_sockets()
    {
        var clients = await ConnectManyAsync("websocket", 2);
        await _host.Io.Local.EmitAsync("local-news", 1).WithTimeout();
        foreach (var c in clients)
        {
            Assert.Equal(1, (await c.NextAsync("local-news"))[0]!.GetValue<int>());
        }
        var fetched = await _host.Io.Local.FetchSocketsAsync().WithTimeout();
        Assert.Equal(clients.Select(c => c.Id).Order(), fetched.Select(s => s.Id).Order());
        await _host.Io.Local.SocketsJoinAsync("local-room").WithTimeout();
        Assert.All(clients, c => Assert.Contains("local-room", c.Socket.Rooms));
        await _host.Io.Local.In("local-room").SocketsLeaveAsync("local-room").WithTimeout();
        Assert.All(clients, c => Assert.DoesNotContain("local-room", c.Socket.Rooms));
        await _host.Io.Local.To(clients[0].Id).DisconnectSocketsAsync().WithTimeout();
        Assert.Equal("io server disconnect", (await clients[0].NextEventAsync("disconnect"))!["reason"]!.GetValue<string>());
        Assert.True(clients[1].Socket.Connected);
    }

    [Fact]
    public async Task FetchSockets_SocketsJoin_SocketsLeave_and_DisconnectSockets_act_on_the_matching_sockets()
    {
        var (a, b, c) = (await _host.ConnectAsync("websocket"), await _host.ConnectAsync("websocket"), await _host.ConnectAsync("polling"));
        a.Socket.Join("r");
        b.Socket.Join("r");
        a.Socket.Data["name"] = "alice";

        var fetched = await _host.Io.In("r").FetchSocketsAsync().WithTimeout();
        Assert.Equal(new[] { a.Id, b.Id }.Order(), fetched.Select(s => s.Id).Order());
        var remoteA = fetched.Single(s => s.Id == a.Id);
        Assert.Same(a.Socket, remoteA.LocalSocket);
        Assert.Equal("alice", remoteA.Data.GetProperty("name").GetString());
        Assert.Contains("r", remoteA.Rooms);
        Assert.Contains(a.Id, remoteA.Rooms);
        Assert.Equal(a.Socket.Handshake.Url, remoteA.Handshake.Url);

        await _host.Io.In("r").SocketsJoinAsync("r2").WithTimeout();
        Assert.Contains("r2", a.Socket.Rooms);
        Assert.Contains("r2", b.Socket.Rooms);
        Assert.DoesNotContain("r2", c.Socket.Rooms);
        await _host.Io.To("r2").EmitAsync("to-r2").WithTimeout();
        await _host.Io.EmitAsync("sentinel").WithTimeout();
        Assert.Contains("to-r2", await a.CollectUntilAsync("sentinel"));
        Assert.Contains("to-r2", await b.CollectUntilAsync("sentinel"));
        Assert.DoesNotContain("to-r2", await c.CollectUntilAsync("sentinel"));

        await _host.Io.In("r").Except(b.Id).SocketsLeaveAsync("r2").WithTimeout();
        Assert.DoesNotContain("r2", a.Socket.Rooms);
        Assert.Contains("r2", b.Socket.Rooms);

        // A RemoteSocket acts on its socket through the adapter.
        await remoteA.EmitAsync("direct", 7).WithTimeout();
        Assert.Equal(7, (await a.NextAsync("direct"))[0]!.GetValue<int>());
        await remoteA.JoinAsync("solo").WithTimeout();
        Assert.Contains("solo", a.Socket.Rooms);
        await a.AckWithAsync("ping-remote", "pong");
        Assert.Equal("pong", (await remoteA.EmitWithAckAsync("ping-remote", [], TimeSpan.FromSeconds(10)).WithTimeout())!.Value.Get<string>(_host.Io.WireOptions));
        await remoteA.LeaveAsync("solo").WithTimeout();
        Assert.DoesNotContain("solo", a.Socket.Rooms);

        await _host.Io.In("r2").DisconnectSocketsAsync().WithTimeout();
        Assert.Equal("io server disconnect", (await b.NextEventAsync("disconnect"))!["reason"]!.GetValue<string>());
        Assert.False(b.Socket.Connected);
        Assert.True(a.Socket.Connected);
        Assert.Equal(new[] { a.Id, c.Id }.Order(), (await _host.Io.FetchSocketsAsync().WithTimeout()).Select(s => s.Id).Order());

        // close: true ends the connections as well.
        await _host.Io.DisconnectSocketsAsync(close: true).WithTimeout();
        Assert.Equal("io server disconnect", (await a.NextEventAsync("disconnect"))!["reason"]!.GetValue<string>());
        Assert.Equal("io server disconnect", (await c.NextEventAsync("disconnect"))!["reason"]!.GetValue<string>());
        await TestTimeouts.Eventually(() => !_host.Io.Engine.Connections.Any(x => x.Id == a.Socket.ConnectionId || x.Id == c.Socket.ConnectionId),
            because: "their connections are closed");
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Compress_false_emits_arrive(string transport)
    {
        var c = await _host.ConnectAsync(transport);
        var big = new string('z', 5000);
        await c.Socket.Compress(false).EmitAsync("plain", big, new byte[] { 1, 2 }).WithTimeout();
        await _host.Io.Compress(false).To(c.Id).EmitAsync("plain-broadcast", big).WithTimeout();
        var plain = await c.NextAsync("plain");
        Assert.Equal(big, plain[0]!.GetValue<string>());
        Assert.Equal(new byte[] { 1, 2 }, DriverBinary.Unwrap(plain[1]));
        Assert.Equal(big, (await c.NextAsync("plain-broadcast"))[0]!.GetValue<string>());
    }

    [Fact]
    public async Task Compress_false_turns_off_http_compression_of_a_polling_response()
    {
        using var http = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None }) { BaseAddress = _host.Web.BaseUri, Timeout = TestTimeouts.Default };
        async Task<HttpResponseMessage> GetAsync(string query)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/socket.io/?EIO=4&transport=polling" + query);
            request.Headers.Add("Accept-Encoding", "gzip");
            return await http.SendAsync(request).WithTimeout();
        }
        using var open = await GetAsync("");
        var sid = JsonDocument.Parse((await open.Content.ReadAsStringAsync().WithTimeout())[1..]).RootElement.GetProperty("sid").GetString()!;
        using (var connect = await http.PostAsync("/socket.io/?EIO=4&transport=polling&sid=" + sid, new StringContent("40")).WithTimeout())
        {
            Assert.Equal(HttpStatusCode.OK, connect.StatusCode);
        }
        string? socketId = null;
        while (socketId is null)
        {
            using var response = await GetAsync("&sid=" + sid);
            // The CONNECT ack, perhaps with a heartbeat ping in the same payload.
            var connectAck = (await response.Content.ReadAsStringAsync().WithTimeout()).Split('\x1e').FirstOrDefault(p => p.StartsWith("40", StringComparison.Ordinal));
            socketId = connectAck is null ? null : JsonDocument.Parse(connectAck[2..]).RootElement.GetProperty("sid").GetString();
        }
        var socket = await _host.SocketAsync(socketId);
        var big = new string('z', 5000);

        await socket.Compress(false).EmitAsync("big", big).WithTimeout();
        using (var response = await GetAsync("&sid=" + sid))
        {
            Assert.Empty(response.Content.Headers.ContentEncoding);
            Assert.Contains("42[\"big\",\"zzz", await response.Content.ReadAsStringAsync().WithTimeout(), StringComparison.Ordinal);
        }
        await socket.EmitAsync("big", big).WithTimeout();
        using (var response = await GetAsync("&sid=" + sid))
        {
            Assert.Equal(["gzip"], response.Content.Headers.ContentEncoding);
        }
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Packet_middleware_sees_every_event_and_can_refuse_or_drop_it(string transport)
    {
        var c = await _host.ConnectAsync(transport);
        await c.EmitAsync("forbidden", 1);
        await c.EmitAsync("swallowed", 2);
        var error = await Assert.ThrowsAsync<NodeDriverException>(() => c.EmitWithAckAsync("swallowed", [3], timeout: 300));
        Assert.Contains("operation has timed out", error.Message);
        var ok = await _host.Driver.CallAsync("sio.emit", new { h = c.H, @event = "allowed", args = new[] { 4 }, ack = true });
        Assert.Equal("ok", ok!.GetValue<string>());
        await TestTimeouts.Eventually(() => _middlewareErrors.Contains(c.Id + ":forbidden is not allowed"));
        Assert.Empty(_handled);
        Assert.True(c.Socket.Connected);
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

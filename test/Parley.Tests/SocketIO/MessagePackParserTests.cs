using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Parley.Serialization;
using Parley.Testing;

namespace Parley.Tests.SocketIO;

/// <summary>
/// The msgpack parser next to the default one (<see cref="ParleyOptions.Parsers"/>): bytes checked against what
/// socket.io-msgpack-parser 3.0.2 encodes, the parser told from the first packet, and clients of both parsers in
/// one room.
/// </summary>
public sealed class MessagePackParserTests : IAsyncLifetime
{
    private ParleyTestHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = await ParleyTestHost.StartAsync(Configure, o => o.Parsers = [SocketParser.Default, SocketParser.MessagePack]);
    }

    private static void Configure(ParleyServer io)
    {
        io.OnConnection(socket =>
        {
            socket.On("bin", e => socket.EmitAsync("bin", new byte[] { 1, 2, 3 }, new { n = 1.5, s = "é" }));
            socket.On("echo", e => e.AckAsync(e.ArgumentsForEmit()));
            socket.On("join", async e =>
            {
                socket.Join(e.Get<string>(0)!);
                await e.AckAsync(true);
            });
            socket.On("shout", e => socket.Namespace.To("room").EmitAsync("shouted", e.Get<string>(0), new byte[] { 9, 8 }));
        });
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static async Task<(byte[] Bytes, WebSocketMessageType Type)> ReceiveAsync(ClientWebSocket ws)
    {
        var buffer = new byte[64 * 1024];
        var length = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            result = await ws.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None).AsTask().WithTimeout();
            length += result.Count;
        }
        while (!result.EndOfMessage);
        return (buffer[..length], result.MessageType);
    }

    private static Task SendAsync(ClientWebSocket ws, string hex) =>
        ws.SendAsync(Convert.FromHexString(hex), WebSocketMessageType.Binary, true, CancellationToken.None).WithTimeout();

    // The hex strings are socket.io-msgpack-parser 3.0.2's Encoder output (notepack.io 2.2) for the objects named.
    [Fact]
    public async Task A_msgpack_client_gets_the_bytes_socket_io_msgpack_parser_writes()
    {
        using var ws = new ClientWebSocket();
        await ws.ConnectAsync(new Uri(_host.Url.Replace("http", "ws", StringComparison.Ordinal) + "/socket.io/?EIO=4&transport=websocket"), CancellationToken.None).WithTimeout();
        var (open, openType) = await ReceiveAsync(ws);
        Assert.Equal(WebSocketMessageType.Text, openType);
        Assert.StartsWith("0{\"sid\"", Encoding.UTF8.GetString(open), StringComparison.Ordinal);

        await SendAsync(ws, "82a47479706500a36e7370a12f"); // {type: 0, nsp: "/"}
        var (connect, connectType) = await ReceiveAsync(ws);
        Assert.Equal(WebSocketMessageType.Binary, connectType);
        var attachments = new List<ReadOnlyMemory<byte>>();
        var reply = JsonNode.Parse(MessagePackJson.ToJsonElement(connect, attachments).GetRawText())!;
        Assert.Equal(0, reply["type"]!.GetValue<int>());
        Assert.Equal("/", reply["nsp"]!.GetValue<string>());
        Assert.Equal(20, reply["data"]!["sid"]!.GetValue<string>().Length);

        await SendAsync(ws, "83a47479706502a46461746191a362696ea36e7370a12f"); // {type: 2, data: ["bin"], nsp: "/"}
        var (bin, _) = await ReceiveAsync(ws);
        // {type: 2, data: ["bin", Buffer [1, 2, 3], {n: 1.5, s: "é"}], nsp: "/"}
        Assert.Equal("83a47479706502a46461746193a362696ec40301020382a16ecb3ff8000000000000a173a2c3a9a36e7370a12f", Convert.ToHexStringLower(bin));

        await SendAsync(ws, "84a47479706502a46461746192a46563686fc4020908a2696405a36e7370a12f"); // {type: 2, data: ["echo", Buffer [9, 8]], id: 5, nsp: "/"}
        var (ack, _) = await ReceiveAsync(ws);
        Assert.Equal("84a2696405a47479706503a46461746191c4020908a36e7370a12f", Convert.ToHexStringLower(ack)); // {id: 5, type: 3, data: [Buffer [9, 8]], nsp: "/"}

        // The connection's parser is msgpack from its first packet on: a default-parser packet now closes it.
        await ws.SendAsync("42[\"bin\"]"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None).WithTimeout();
        await TestTimeouts.Eventually(() => _host.Io.Engine.ClientsCount == 0, because: "a text packet from a msgpack client closes it");
    }

    [Theory]
    [InlineData("polling")]
    [InlineData("websocket")]
    public async Task Default_and_msgpack_clients_in_one_room_get_the_same_broadcast(string transport)
    {
        var handles = new List<string>();
        foreach (var parser in new[] { "msgpack", "default", "msgpack", "default" })
        {
            var opts = new JsonObject { ["transports"] = new JsonArray(transport), ["parser"] = parser };
            var h = await _host.Driver.CallForHandleAsync("sio.connect", new { url = _host.Url, opts });
            await _host.Driver.NextEventAsync(h, "connect");
            Assert.True((await _host.Driver.CallAsync("sio.emit", new { h, @event = "join", args = new[] { "room" }, ack = true }))!.GetValue<bool>());
            handles.Add(h);
        }
        await _host.Driver.CallAsync("sio.emit", new { h = handles[0], @event = "shout", args = new[] { "hi" } });
        foreach (var h in handles)
        {
            var args = await _host.Driver.NextSocketEventAsync(h, "shouted");
            Assert.Equal("hi", args[0]!.GetValue<string>());
            Assert.Equal(new byte[] { 9, 8 }, DriverBinary.Unwrap(args[1]));
        }
    }

    [Fact]
    public async Task Malformed_msgpack_packets_close_the_connection_with_a_log_line()
    {
        foreach (var hex in new[] { "82a47479706509a36e7370a12f", "81a47479706502", "c1", "83a47479706502a46461746190a36e7370a12f" })
        {
            using var ws = new ClientWebSocket();
            await ws.ConnectAsync(new Uri(_host.Url.Replace("http", "ws", StringComparison.Ordinal) + "/socket.io/?EIO=4&transport=websocket"), CancellationToken.None).WithTimeout();
            await ReceiveAsync(ws);
            await SendAsync(ws, "82a47479706500a36e7370a12f");
            await ReceiveAsync(ws);
            await SendAsync(ws, hex); // type 9; no nsp; a never-used code; an event without a name
            await TestTimeouts.Eventually(() => _host.Io.Engine.ClientsCount == 0, because: hex + " closes the connection");
        }
    }
}

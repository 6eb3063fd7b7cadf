using System.Net.WebSockets;
using Parley.EngineIO;
using Parley.Protocol.EngineIO;
using Parley.Testing;

namespace Parley.Tests.EngineIO;

/// <summary>
/// A writer's batch goes out through CorkedStream as one write (AddParley's pipeline) or frame by frame (MapEngineIO
/// alone): either way every frame arrives whole, once, in order, and the connection stays usable.
/// </summary>
public sealed class CorkedWriteTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_batch_of_mixed_frames_arrives_whole_and_in_order(bool corked)
    {
        await using var host = await EchoHost.StartAsync(corked: corked);
        var (ws, sid) = await host.OpenWebSocketAsync();
        await using var _ws = ws;
        var connection = host.Connections[sid];
        Assert.Equal(corked, connection.WritesBatched);

        // One Send queues the whole batch: small text frames, binary frames, and frames larger than the cork's limit
        // (which go through with what is held before them).
        var expected = new List<(WebSocketMessageType Type, byte[] Data)>();
        var packets = new List<EnginePacket>();
        for (var i = 0; i < 300; i++)
        {
            if (i % 50 == 7)
            {
                var big = new byte[CorkedStream.Limit + 1000 * i];
                big.AsSpan().Fill((byte)i);
                packets.Add(EnginePacket.Binary(big));
                expected.Add((WebSocketMessageType.Binary, big));
            }
            else if (i % 3 == 0)
            {
                var bytes = new byte[i];
                bytes.AsSpan().Fill((byte)(i * 7));
                packets.Add(EnginePacket.Binary(bytes));
                expected.Add((WebSocketMessageType.Binary, bytes));
            }
            else
            {
                var text = $"frame {i} " + new string('x', i * 13);
                packets.Add(EnginePacket.Message(text));
                expected.Add((WebSocketMessageType.Text, System.Text.Encoding.UTF8.GetBytes("4" + text)));
            }
        }
        Assert.True(connection.Send(packets.ToArray()));

        foreach (var (type, data) in expected)
        {
            var frame = await ws.ReceiveAsync();
            Assert.Equal(type, frame.Type);
            Assert.Equal(data, frame.Data);
        }
        // Nothing is left held back: a lone packet after the batch arrives on its own, and the client's messages echo.
        Assert.True(connection.Send(EnginePacket.Message("after")));
        Assert.Equal("4after", await ws.ReceiveTextAsync(skipPings: true));
        await ws.SendTextAsync("4echo me");
        Assert.Equal("4echo me", await ws.ReceiveTextAsync(skipPings: true));
        Assert.Equal(EngineConnectionState.Open, connection.State);
    }

    [Fact]
    public async Task A_close_after_a_batch_follows_every_frame()
    {
        await using var host = await EchoHost.StartAsync();
        var (ws, sid) = await host.OpenWebSocketAsync();
        await using var _ws = ws;
        var connection = host.Connections[sid];
        var packets = Enumerable.Range(0, 100).Select(i => EnginePacket.Message($"m{i}")).ToArray();
        Assert.True(connection.Send(packets));
        connection.Close();

        for (var i = 0; i < 100; i++)
        {
            Assert.Equal($"4m{i}", await ws.ReceiveTextAsync(skipPings: true));
        }
        Assert.Equal("forced close", await host.ClosedReason(sid));
        Assert.Equal(WebSocketMessageType.Close, (await ws.ReceiveAsync()).Type);
    }
}

using System.Buffers;
using System.Net.WebSockets;

namespace Parley.KestrelFloor;

/// <summary>
/// Reads and drops messages until the peer closes: a zero-byte read waits for data first, so an idle socket holds no
/// receive buffer (as Kestrel's own transport and Parley's engine do), then a small pooled buffer drains the message.
/// </summary>
internal static class FloorReceiveLoop
{
    public static async Task RunAsync(WebSocket ws, ILogger logger)
    {
        try
        {
            while (ws.State == WebSocketState.Open)
            {
                var peek = await ws.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
                if (peek.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
                var buffer = ArrayPool<byte>.Shared.Rent(256);
                try
                {
                    ValueWebSocketReceiveResult result;
                    do
                    {
                        result = await ws.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                    }
                    while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
            if (ws.State == WebSocketState.CloseReceived)
            {
                await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException)
        {
            // A peer that goes away without a close frame: the measurement's clients do that when killed.
            logger.LogDebug(e, "WebSocket ended without a close handshake");
        }
    }
}

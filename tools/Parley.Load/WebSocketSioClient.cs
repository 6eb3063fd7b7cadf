using System.Buffers;
using System.Net.WebSockets;
using System.Text;

namespace Parley.Load;

/// <summary>A <see cref="SioClient"/> straight on a WebSocket (<c>transport=websocket</c>, no polling first).</summary>
internal sealed class WebSocketSioClient : SioClient
{
    /// <summary>A message larger than this ends the client: the tool is not meant for big payloads.</summary>
    private const int MaxMessage = 1 << 20;

    private readonly ClientWebSocket _ws = new();

    public WebSocketSioClient(LoadTarget target, int index, string? cookie) : base(target, index)
    {
        _ws.Options.KeepAliveInterval = TimeSpan.Zero;
        if (cookie is not null)
        {
            _ws.Options.SetRequestHeader("Cookie", cookie);
        }
    }

    protected override async Task OpenAsync(CancellationToken ct)
    {
        await _ws.ConnectAsync(Target.WebSocketUri, ct);
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            var length = await ReceiveMessageAsync(buffer, ct);
            if (length is not { } n || n == 0 || buffer[0] != (byte)'0')
            {
                throw new LoadException("no Engine.IO open packet");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        _ = ReadLoopAsync();
    }

    /// <summary>Reads one whole message into <paramref name="buffer"/>; null on close or when it does not fit.</summary>
    private async Task<int?> ReceiveMessageAsync(byte[] buffer, CancellationToken ct)
    {
        var length = 0;
        while (true)
        {
            var result = await _ws.ReceiveAsync(buffer.AsMemory(length), ct);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }
            length += result.Count;
            if (result.EndOfMessage)
            {
                return result.MessageType == WebSocketMessageType.Text ? length : 0;
            }
            if (length == buffer.Length)
            {
                return -1;
            }
        }
    }

    /// <summary>
    /// Waits for data with a zero-byte read, so an idle client holds no buffer (thousands sit idle); then reads the
    /// message into a pooled buffer that grows as needed.
    /// </summary>
    private async Task ReadLoopAsync()
    {
        string? reason = "transport close";
        try
        {
            while (true)
            {
                var peek = await _ws.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
                if (peek.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
                var buffer = ArrayPool<byte>.Shared.Rent(4096);
                try
                {
                    var length = 0;
                    ValueWebSocketReceiveResult result;
                    do
                    {
                        if (length == buffer.Length)
                        {
                            if (length >= MaxMessage)
                            {
                                throw new LoadException("message too large");
                            }
                            var bigger = ArrayPool<byte>.Shared.Rent(length * 2);
                            buffer.AsSpan(0, length).CopyTo(bigger);
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = bigger;
                        }
                        result = await _ws.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                        length += result.Count;
                    }
                    while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }
                    if (result.MessageType == WebSocketMessageType.Text)
                    {
                        OnEnginePacket(buffer.AsSpan(0, length));
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException or LoadException)
        {
            reason = ex is LoadException ? ex.Message : "transport error";
        }
        OnTransportClosed(IsOpen ? reason : null);
        _ws.Abort();
        _ws.Dispose();
    }

    protected override async Task WriteAsync(List<string> packets)
    {
        foreach (var packet in packets)
        {
            var bytes = Encoding.UTF8.GetBytes(packet);
            await _ws.SendAsync(bytes, WebSocketMessageType.Text, true, CancellationToken.None);
        }
    }

    protected override void CloseTransport() => _ = CloseAsync();

    private async Task CloseAsync()
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
        }
        _ws.Abort();
    }

    protected override void AbortTransport() => _ws.Abort();
}

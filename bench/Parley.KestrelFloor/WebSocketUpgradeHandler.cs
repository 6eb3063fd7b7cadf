using System.Buffers;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Connections;

namespace Parley.KestrelFloor;

/// <summary>
/// A measurement spike, NOT production code: a Kestrel connection handler below the HTTP layer that reads the
/// WebSocket upgrade request from the transport pipe itself, answers 101 with Sec-WebSocket-Accept (RFC 6455 §4.2.2)
/// and runs <see cref="WebSocket.CreateFromStream(Stream, WebSocketCreationOptions)"/> over the same pipe. It shows
/// what an idle WebSocket would cost without Kestrel's HTTP/1 connection and request state. It does not do what a
/// real transport must: no keep-alive HTTP requests before the upgrade, no Origin or path checks, no
/// Sec-WebSocket-Extensions (deflate) or subprotocols, no request timeout, no limits beyond the request's size.
/// </summary>
internal sealed class WebSocketUpgradeHandler(ILogger<WebSocketUpgradeHandler> logger) : ConnectionHandler
{
    // Kestrel's own default for the request line and headers together (KestrelServerLimits.MaxRequestHeadersTotalSize
    // is 32 KB); a WebSocket upgrade from a browser is well under 2 KB, so 8 KB bounds a hostile client tighter.
    private const int MaxRequestBytes = 8 * 1024;

    // RFC 6455 §1.3: the key is concatenated with this GUID, hashed with SHA-1 and base64-encoded.
    private static ReadOnlySpan<byte> AcceptGuid => "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"u8;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        string? key = null;
        while (key is null)
        {
            var result = await input.ReadAsync();
            var buffer = result.Buffer;
            var reader = new SequenceReader<byte>(buffer);
            if (reader.TryReadTo(out ReadOnlySequence<byte> head, "\r\n\r\n"u8, advancePastDelimiter: true))
            {
                key = ParseUpgradeKey(head);
                input.AdvanceTo(reader.Position);
                if (key is null)
                {
                    await connection.Transport.Output.WriteAsync("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
                    return;
                }
                break;
            }
            if (buffer.Length > MaxRequestBytes || result.IsCompleted)
            {
                // Over the bound, or the peer left mid-request: drop the connection.
                input.AdvanceTo(buffer.End);
                return;
            }
            input.AdvanceTo(buffer.Start, buffer.End);
        }

        await connection.Transport.Output.WriteAsync(Encoding.ASCII.GetBytes(
            $"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: {Accept(key)}\r\n\r\n"));

        await using var stream = new DuplexPipeStream(connection.Transport);
        // No keep-alive pings, as in the aspnet mode: each would give the socket a timer.
        using var ws = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        await FloorReceiveLoop.RunAsync(ws, logger);
    }

    /// <summary>The Sec-WebSocket-Key of a GET upgrade to websocket, version 13; null for anything else.</summary>
    private static string? ParseUpgradeKey(ReadOnlySequence<byte> head)
    {
        var text = Encoding.ASCII.GetString(head);
        var lines = text.Split("\r\n");
        if (!lines[0].StartsWith("GET ", StringComparison.Ordinal) || !lines[0].EndsWith(" HTTP/1.1", StringComparison.Ordinal))
        {
            return null;
        }
        string? key = null;
        var upgrade = false;
        var version = false;
        foreach (var line in lines.AsSpan(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return null;
            }
            var name = line.AsSpan(0, colon).Trim();
            var value = line.AsSpan(colon + 1).Trim();
            if (name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase))
            {
                upgrade = value.Contains("websocket", StringComparison.OrdinalIgnoreCase);
            }
            else if (name.Equals("Sec-WebSocket-Version", StringComparison.OrdinalIgnoreCase))
            {
                version = value.SequenceEqual("13");
            }
            else if (name.Equals("Sec-WebSocket-Key", StringComparison.OrdinalIgnoreCase))
            {
                key = value.ToString();
            }
        }
        return upgrade && version && key is { Length: 24 } ? key : null;
    }

    private static string Accept(string key)
    {
        Span<byte> input = stackalloc byte[24 + 36];
        Encoding.ASCII.GetBytes(key, input);
        AcceptGuid.CopyTo(input[24..]);
        return Convert.ToBase64String(SHA1.HashData(input));
    }
}

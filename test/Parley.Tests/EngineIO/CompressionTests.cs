using System.Net.WebSockets;
using Parley.EngineIO;

namespace Parley.Tests.EngineIO;

/// <summary>Per-message deflate's bounds: the window and the context takeover the server answers with, and their checks.</summary>
public sealed class CompressionTests
{
    [Fact]
    public async Task The_deflate_window_and_context_takeover_are_the_servers()
    {
        var options = EchoHost.CalmOptions();
        options.PerMessageDeflate = true;
        options.PerMessageDeflateWindowBits = 10;
        options.PerMessageDeflateContextTakeover = false;
        await using var host = await EchoHost.StartAsync(options);
        await using var ws = await host.ConnectWebSocketAsync(configure: o => o.DangerousDeflateOptions = new WebSocketDeflateOptions());
        var extension = ws.Socket.HttpResponseHeaders!["Sec-WebSocket-Extensions"].Single();
        Assert.Contains("permessage-deflate", extension, StringComparison.Ordinal);
        Assert.Contains("server_max_window_bits=10", extension, StringComparison.Ordinal);
        Assert.Contains("server_no_context_takeover", extension, StringComparison.Ordinal);
        Assert.StartsWith("0{", await ws.ReceiveTextAsync(), StringComparison.Ordinal);
        foreach (var text in new[] { "4short", "4" + string.Concat(Enumerable.Repeat("compress me ", 500)) })
        {
            await ws.SendTextAsync(text);
            Assert.Equal(text, await ws.ReceiveTextAsync(skipPings: true));
        }
    }

    [Theory]
    [InlineData(8, 1024)]
    [InlineData(16, 1024)]
    [InlineData(15, -1)]
    public void Out_of_range_deflate_settings_are_refused_at_start_up(int windowBits, int threshold)
    {
        var options = new EngineOptions { PerMessageDeflateWindowBits = windowBits, PerMessageDeflateThreshold = threshold };
        var result = new EngineOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains(windowBits is < 9 or > 15 ? "EngineOptions.PerMessageDeflateWindowBits" : "EngineOptions.PerMessageDeflateThreshold",
            result.FailureMessage, StringComparison.Ordinal);
    }
}

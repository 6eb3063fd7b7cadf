using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.Adapters;
using Parley.Internal;

namespace Parley.Tests.SocketIO;

/// <summary>
/// <see cref="SocketHandshake.Time"/> is a <see cref="DateTimeOffset"/>; the wire (fetchSockets replies, the admin UI)
/// and JSON keep socket.io's <c>Date.toString()</c> form, byte for byte what Node writes with TZ=UTC.
/// </summary>
public sealed class HandshakeTimeTests
{
    private static readonly DateTimeOffset s_time = new(2026, 12, 2, 11, 32, 55, TimeSpan.Zero);

    [Fact]
    public void Utc_time_is_written_as_node_writes_it()
    {
        Assert.Equal("Wed Dec 02 2026 11:32:55 GMT+0000 (Coordinated Universal Time)", JavaScriptDate.Format(s_time));
    }

    [Theory]
    [InlineData("Wed Dec 02 2026 11:32:55 GMT+0000 (Coordinated Universal Time)", 0)]
    [InlineData("Wed Dec 02 2026 12:32:55 GMT+0100 (Central European Standard Time)", 60)]
    [InlineData("Wed Dec 02 2026 06:02:55 GMT-0530", -330)]
    public void Node_time_reads_with_its_offset(string text, int offsetMinutes)
    {
        Assert.True(JavaScriptDate.TryParse(text, out var time));
        Assert.Equal(s_time, time);
        Assert.Equal(TimeSpan.FromMinutes(offsetMinutes), time.Offset);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("2026-12-02T11:32:55.000Z")]
    [InlineData("Wed Dec 02 2026 11:32:55 UTC+0000")]
    [InlineData("Wed Dec 02 2026 11:32:55 GMT+99")]
    [InlineData("Wed Dec 02 2026 11:32:55 GMT+2500")]
    public void Other_text_does_not_read(string? text) => Assert.False(JavaScriptDate.TryParse(text, out _));

    [Fact]
    public void Json_carries_the_javascript_form_both_ways()
    {
        var handshake = new SocketHandshake(new Dictionary<string, string>(), s_time, "127.0.0.1", false, false, s_time.ToUnixTimeMilliseconds(),
            "/socket.io/", new Dictionary<string, string>(), default);
        var json = JsonSerializer.SerializeToElement(handshake);
        Assert.Equal("Wed Dec 02 2026 11:32:55 GMT+0000 (Coordinated Universal Time)", json.GetProperty("Time").GetString());
        Assert.Equal(s_time, JsonSerializer.Deserialize<SocketHandshake>(json)!.Time);
    }

    [Fact]
    public async Task A_fetched_socket_keeps_the_time_its_node_sent()
    {
        using var doc = JsonDocument.Parse("""
            {"id":"a","handshake":{"headers":{},"time":"Wed Dec 02 2026 12:32:55 GMT+0100 (Central European Standard Time)",
             "address":"::1","xdomain":false,"secure":false,"issued":1796211175000,"url":"/","query":{},"auth":{}},"rooms":[],"data":null}
            """);
        await using var server = new ParleyServer(new ParleyOptions(), NullLoggerFactory.Instance);
        var socket = ClusterJson.ReadSocket(server.Of("/"), doc.RootElement);
        Assert.Equal(s_time, socket.Handshake.Time);
        Assert.Equal(TimeSpan.FromHours(1), socket.Handshake.Time.Offset);
    }
}

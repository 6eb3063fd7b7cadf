using System.Text;
using System.Text.Json;
using Parley.Adapters;

namespace Parley.Tests.Adapters;

/// <summary>What a transport reads of a received message without parsing its data itself.</summary>
public sealed class ClusterMessageTests
{
    private static ClusterMessage Received(ClusterMessageType type, string json) => new("node", "/", type, Encoding.UTF8.GetBytes(json));

    [Fact]
    public void A_received_broadcast_gives_its_targets_and_request_id()
    {
        var message = Received(ClusterMessageType.Broadcast,
            """{"packet":{"type":2,"data":["e"]},"requestId":"abc","opts":{"rooms":["r1"],"except":["x"],"flags":{"volatile":true,"timeout":1500}}}""");
        var options = Assert.IsType<BroadcastOptions>(message.Options);
        Assert.Equal(["r1"], options.Rooms);
        Assert.Equal(["x"], options.Except);
        Assert.True(options.Flags.Volatile);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), options.Flags.Timeout);
        Assert.Equal("abc", message.RequestId);
    }

    [Fact]
    public void Types_without_targets_have_no_options_and_a_broadcast_without_acks_no_request_id()
    {
        var broadcast = Received(ClusterMessageType.Broadcast, """{"packet":{"type":2,"data":["e"]},"opts":{"rooms":[],"except":[]}}""");
        Assert.Null(broadcast.RequestId);
        Assert.Empty(broadcast.Options!.Rooms);

        var answer = Received(ClusterMessageType.ServerSideEmitResponse, """{"requestId":"r","packet":1}""");
        Assert.Null(answer.Options);
        Assert.Equal("r", answer.RequestId);

        var heartbeat = new ClusterMessage("node", "/", ClusterMessageType.Heartbeat, default(JsonElement));
        Assert.Null(heartbeat.Options);
        Assert.Null(heartbeat.RequestId);
    }

    [Fact]
    public void A_join_without_opts_targets_every_socket()
    {
        var join = Received(ClusterMessageType.SocketsJoin, """{"rooms":["r"]}""");
        Assert.Empty(join.Options!.Rooms);
        Assert.Empty(join.Options.Except);
    }
}

using System.Text.Json.Nodes;
using Parley.EngineIO;
using Parley.Testing;

namespace Parley.Clients.Tests;

/// <summary>
/// What every client library must be able to do with Parley, over polling, WebSocket and the upgrade between them:
/// events and acks both ways, binary both ways, namespaces and rooms, a refusal by middleware, and a session from
/// the cookie. Each library is a subclass; the test bodies are the same for all.
/// </summary>
public abstract class ClientInteropTests : IClassFixture<InteropServer>, IAsyncLifetime
{
    private readonly List<InteropClient> _clients = [];
    private IInteropClientFactory? _factory;

    protected ClientInteropTests(InteropServer server) => Server = server;

    protected InteropServer Server { get; }

    protected abstract IInteropClientFactory CreateFactory();

    /// <summary>
    /// What the client reports of the <c>/private</c> refusal (message "not allowed", data <c>{code: 7}</c>): the
    /// message, except for v2 clients, which get the data when there is some (socket.io 4 namespace.ts).
    /// </summary>
    protected virtual string ExpectedRefusal => "not allowed";

    public Task InitializeAsync()
    {
        _factory = CreateFactory();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }
    }

    public static TheoryData<string> Transports => new() { "polling", "websocket", "upgrade" };

    /// <summary>Connects a client; with "upgrade", waits until the server has it on WebSocket.</summary>
    private async Task<InteropClient> ConnectAsync(string transport, string nsp = "/", string? cookie = null)
    {
        var client = await _factory!.ConnectAsync(new ConnectRequest(Server.Url + nsp, transport, cookie));
        _clients.Add(client);
        if (client.Id is not null)
        {
            var socket = await Server.Host.SocketAsync(client.Id);
            var expected = transport == "polling" ? EngineTransport.Polling : EngineTransport.WebSocket;
            await TestTimeouts.Eventually(() => socket.Transport == expected, because: $"{client.Id} on {expected}");
        }
        return client;
    }

    private async Task<InteropClient> ConnectedAsync(string transport, string nsp = "/", string? cookie = null)
    {
        var client = await ConnectAsync(transport, nsp, cookie);
        Assert.True(client.Id is not null, "refused: " + client.Error);
        return client;
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Events_and_acks_travel_both_ways(string transport)
    {
        var client = await ConnectedAsync(transport);

        var echoed = await client.EmitWithAckAsync("echo", new JsonObject { ["n"] = 1, ["s"] = "two", ["a"] = new JsonArray(true, null) });
        Assert.Equal("""{"n":1,"s":"two","a":[true,null]}""", echoed!.ToJsonString());

        // The server asks the client (with an ack, binary in the question) and hands the client's answer back.
        await client.AckWithAsync("question", "answer", 42);
        var answer = await client.EmitWithAckAsync("ask");
        Assert.Equal("answer", answer!.GetValue<string>());
        var question = await client.NextEventAsync("question");
        Assert.Equal("what?", question[0]!.GetValue<string>());
        Assert.Equal(new byte[] { 1, 2, 3 }, DriverBinary.Unwrap(question[1]));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Binary_travels_both_ways(string transport)
    {
        var client = await ConnectedAsync(transport);
        var payload = Enumerable.Range(0, 300).Select(i => (byte)i).ToArray();
        client.Listen("bin-back");

        var ack = await client.EmitWithAckAsync("bin", payload);
        Assert.Equal(300, ack!["length"]!.GetValue<int>());
        Assert.Equal(0, ack["first"]!.GetValue<int>());
        var back = await client.NextEventAsync("bin-back");
        Assert.Equal(payload.Reverse().ToArray(), DriverBinary.Unwrap(back[0]));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Namespaces_and_rooms_deliver_to_their_members_only(string transport)
    {
        var blue = await ConnectedAsync(transport);
        var other = await ConnectedAsync(transport);
        Assert.True((await blue.EmitWithAckAsync("join", "blue"))!.GetValue<bool>());

        // The room holds exactly the client that joined it, and its broadcasts reach that client. The order of two
        // events is not checked: python-socketio runs each received event's handler on a thread of its own.
        Assert.Equal([blue.Id], (await Server.Host.Io.In("blue").FetchSocketsAsync().WithTimeout()).Select(s => s.Id));
        await other.EmitAsync("to-room", "blue");
        await other.EmitAsync("to-room", "everyone");
        var toBlue = new[] { await blue.NextEventAsync("room-event"), await blue.NextEventAsync("room-event") };
        Assert.Equal(["blue", "everyone"], toBlue.Select(a => a[0]!.GetValue<string>()).Order(StringComparer.Ordinal));
        var (name, args) = await other.NextAnyEventAsync();
        Assert.Equal("room-event", name);
        Assert.Equal("everyone", args[0]!.GetValue<string>());

        var elsewhere = await ConnectedAsync(transport, "/other");
        Assert.Equal("/other", (await elsewhere.EmitWithAckAsync("where"))!.GetValue<string>());
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_middleware_refusal_reaches_the_client_as_connect_error(string transport)
    {
        var refused = await ConnectAsync(transport, "/private");
        Assert.Null(refused.Id);
        Assert.Equal(ExpectedRefusal, refused.Error);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task The_session_comes_from_the_cookie(string transport)
    {
        var cookie = await Server.LoginAsync("ada");
        var member = await ConnectedAsync(transport, "/members", cookie);
        Assert.Equal("ada", (await member.EmitWithAckAsync("whoami"))!.GetValue<string>());

        var stranger = await ConnectAsync(transport, "/members");
        Assert.Null(stranger.Id);
        Assert.NotNull(stranger.Error);
    }
}

/// <summary>The official socket.io-client 4.8 in Node.</summary>
public sealed class JsClientTests(InteropServer server) : ClientInteropTests(server)
{
    protected override IInteropClientFactory CreateFactory() => new LineDriverFactory(Server.JsDriver);
}

/// <summary>socket.io-client 4.8 with socket.io-msgpack-parser 3.0.2 in Node.</summary>
public sealed class MessagePackClientTests(InteropServer server) : ClientInteropTests(server)
{
    protected override IInteropClientFactory CreateFactory() => new LineDriverFactory(Server.JsDriver, "msgpack");
}

/// <summary>python-socketio 5 (Debian's python3-socketio).</summary>
public sealed class PythonClientTests(InteropServer server) : ClientInteropTests(server)
{
    protected override IInteropClientFactory CreateFactory() => new LineDriverFactory(Server.PythonDriver);
}

/// <summary>SocketIOClient 3.0.6 (NuGet) in .NET.</summary>
public sealed class DotNetClientTests(InteropServer server) : ClientInteropTests(server)
{
    protected override IInteropClientFactory CreateFactory() => new DotNetClientFactory();
}

/// <summary>socket.io-client 2.5.0 in Node: Engine.IO v3 and the Socket.IO v4 protocol, on a server with AllowEIO3.</summary>
public sealed class V2ClientTests(InteropServer server) : ClientInteropTests(server)
{
    protected override string ExpectedRefusal => """{"code":7}""";

    protected override IInteropClientFactory CreateFactory() => new LineDriverFactory(Server.V2Driver);
}

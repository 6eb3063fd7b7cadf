using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Parley.Testing;

namespace Parley.Tests.SocketIO;

/// <summary>
/// Joining namespaces with the official socket.io-client: dynamic namespaces, connection middleware, refusals and
/// failures (every one answered with connect_error), connectTimeout, and the order of the CONNECT ack and the
/// connection handlers.
/// </summary>
public sealed partial class ConnectTests : IAsyncLifetime
{
    private SioHost? _host;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }

    private async Task<SioHost> StartAsync(Action<ParleyServer> configure, Action<ParleyOptions>? options = null) =>
        _host = await SioHost.StartAsync(configure, options);

    /// <summary>Starts a client on <paramref name="nsp"/> without waiting for the outcome.</summary>
    private static Task<string> OpenAsync(SioHost host, string nsp, JsonObject? opts = null, object? emitOnConnect = null) =>
        host.Driver.CallForHandleAsync("sio.connect", new { url = host.Url + nsp, opts = opts ?? new JsonObject { ["transports"] = new JsonArray("websocket") }, emitOnConnect });

    private static async Task<(string Message, JsonNode? Data)> ConnectErrorAsync(SioHost host, string h, TimeSpan? timeout = null)
    {
        var error = await host.Driver.NextEventAsync(h, "connect_error", timeout);
        return (error!["message"]!.GetValue<string>(), error["data"]);
    }

    public static TheoryData<string> Transports => new() { "polling", "websocket" };

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Dynamic_namespaces_by_regex_and_predicate_get_children_with_the_parents_middleware_and_handlers(string transport)
    {
        ParentNamespace byRegex = null!;
        ParentNamespace byPredicate = null!;
        var host = await StartAsync(io =>
        {
            byRegex = io.Of(new Regex(@"^/room-\d+$"));
            byRegex.Use(async (socket, next) =>
            {
                socket.Data["checked"] = socket.Namespace.Name;
                await next();
            });
            byRegex.OnConnection(socket =>
            {
                if (socket.Namespace.Name == "/room-7")
                {
                    socket.Join("seven");
                }
                socket.On("where", e => e.AckAsync(socket.Namespace.Name, socket.Data["checked"]));
            });
            // The predicate sees the CONNECT auth: only clients with the right token get a namespace.
            byPredicate = io.Of((name, auth) => ValueTask.FromResult(name.StartsWith("/team-", StringComparison.Ordinal) &&
                auth is { } a && a.TryGetProperty("token", out var token) && token.GetString() == "t"));
            byPredicate.OnConnection(socket => socket.On("where", e => e.AckAsync(socket.Namespace.Name)));
        });

        var room7 = await host.ConnectAsync(transport, path: "/room-7");
        var room8 = await host.ConnectAsync(transport, path: "/room-8");
        Assert.Equal("/room-7", (await room7.EmitWithAckAsync("where", []))!.GetValue<string>());
        var answer = await host.Driver.CallAsync("sio.emit", new { h = room8.H, @event = "where", args = Array.Empty<object>(), ack = true });
        Assert.Equal("/room-8", answer!.GetValue<string>());
        Assert.Same(byRegex, room7.Socket.Namespace.Parent);
        Assert.Equal(new[] { "/room-7", "/room-8" }, byRegex.Children.Select(c => c.Name).Order());

        var team = await host.ConnectAsync(transport, new JsonObject { ["auth"] = new JsonObject { ["token"] = "t" } }, "/team-a");
        Assert.Equal("/team-a", (await team.EmitWithAckAsync("where", []))!.GetValue<string>());
        Assert.Same(byPredicate, team.Socket.Namespace.Parent);

        // A name no parent matches, and a predicate that says no, are both "Invalid namespace".
        var opts = TransportOpts(transport);
        Assert.Equal("Invalid namespace", (await ConnectErrorAsync(host, await OpenAsync(host, "/room-x", opts))).Message);
        opts["auth"] = new JsonObject { ["token"] = "wrong" };
        Assert.Equal("Invalid namespace", (await ConnectErrorAsync(host, await OpenAsync(host, "/team-b", opts))).Message);

        // An emit on the parent reaches every child, also through a Namespace reference; a room broadcast on the
        // parent reaches that room in every child, and nobody else.
        await byRegex.To("seven").EmitAsync("in-seven", 7).WithTimeout();
        Namespace asNamespace = byRegex;
        await asNamespace.EmitAsync("to-children", 1).WithTimeout();
        Assert.Equal(["in-seven", "to-children"], await room7.CollectUntilAsync("to-children"));
        Assert.Equal(["to-children"], await room8.CollectUntilAsync("to-children"));
    }

    private static JsonObject TransportOpts(string transport) => new() { ["transports"] = new JsonArray(transport) };

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_middleware_refusal_reaches_connect_error_with_its_message_and_data(string transport)
    {
        var host = await StartAsync(io =>
        {
            io.Of("/private").Use((socket, next) =>
                throw new ParleyConnectionRefusedException("not allowed", new { code = 42, reasons = new[] { "no token" }, bin = (string?)null }));
            io.Of("/plain").Use((_, _) => throw new InvalidOperationException("plain failure"));
        });
        var (message, data) = await ConnectErrorAsync(host, await OpenAsync(host, "/private", TransportOpts(transport)));
        Assert.Equal("not allowed", message);
        Assert.Equal(42, data!["code"]!.GetValue<int>());
        Assert.Equal("no token", data["reasons"]![0]!.GetValue<string>());
        Assert.Null(data["bin"]);

        // Any exception refuses; without ParleyConnectionRefusedException there is no data.
        (message, data) = await ConnectErrorAsync(host, await OpenAsync(host, "/plain", TransportOpts(transport)));
        Assert.Equal("plain failure", message);
        Assert.Null(data);
    }

    private sealed class Unserializable
    {
        public string Value => throw new InvalidOperationException("this getter always fails");
    }

    [Fact]
    public async Task Failures_while_joining_are_logged_and_answered_with_connect_error()
    {
        var host = await StartAsync(io =>
        {
            io.Of((name, _) => name == "/throws" ? throw new InvalidOperationException("predicate failed") : ValueTask.FromResult(false));
            // Catastrophic backtracking on "/aaaa…ab": without a match timeout this holds a thread for minutes.
            io.Of(new Regex("^/(a+)+$"));
            io.Of("/bad-data").Use((_, _) => throw new ParleyConnectionRefusedException("refused", new Unserializable()));
        });

        var h = await OpenAsync(host, "/throws");
        Assert.Equal("server error", (await ConnectErrorAsync(host, h)).Message);
        await TestTimeouts.Eventually(() => TestLog.Contains("joining namespace /throws failed"));

        var slow = "/" + new string('a', 40) + "b";
        h = await OpenAsync(host, slow);
        Assert.Equal("server error", (await ConnectErrorAsync(host, h, TimeSpan.FromSeconds(10))).Message);
        Assert.Contains(TestLog.Provider.Entries, e => e.Message.Contains("joining namespace " + slow + " failed", StringComparison.Ordinal) && e.Exception is RegexMatchTimeoutException);

        // Refusal data that cannot be serialized is left out; the refusal and its message still arrive.
        h = await OpenAsync(host, "/bad-data");
        var (message, data) = await ConnectErrorAsync(host, h);
        Assert.Equal("refused", message);
        Assert.Null(data);
        await TestTimeouts.Eventually(() => TestLog.Contains("refusal by a middleware of /bad-data could not be serialized"));

        // The connection is still usable for a namespace that works.
        var c = await host.ConnectAsync("websocket");
        Assert.True(c.Socket.Connected);
    }

    [Fact]
    public async Task ConnectTimeout_closes_a_connection_that_joins_no_namespace_even_while_a_middleware_is_pending()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var host = await StartAsync(
            io => io.Of("/slow").Use(async (_, next) =>
            {
                await release.Task;
                await next();
            }),
            o => o.ConnectTimeout = TimeSpan.FromMilliseconds(1000));
        try
        {
            // A middleware that has not decided yet does not keep the connection open.
            var h = await OpenAsync(host, "/slow");
            var disconnect = await host.Driver.NextEventAsync(h, "disconnect", TimeSpan.FromSeconds(10));
            Assert.Equal("transport close", disconnect!["reason"]!.GetValue<string>());
            await TestTimeouts.Eventually(() => TestLog.Contains("no namespace joined within connectTimeout"));

            // A bare Engine.IO connection that never sends CONNECT is closed too.
            var e = await host.Driver.CallForHandleAsync("eio.open", new { url = host.Url + "/socket.io/", opts = new { transports = new[] { "websocket" }, path = "/socket.io" } });
            var sid = (await host.Driver.NextEventAsync(e, "open"))!["id"]!.GetValue<string>();
            Assert.Equal("transport close", (await host.Driver.NextEventAsync(e, "close", TimeSpan.FromSeconds(10)))!["reason"]!.GetValue<string>());
            Assert.DoesNotContain(host.Io.Engine.Connections, c => c.Id == sid);

            // A client that joins in time stays connected past the timeout.
            var c = await host.ConnectAsync("websocket");
            await Task.Delay(1500);
            Assert.True(c.Socket.Connected);
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task The_first_event_after_connect_finds_the_handlers_registered_by_a_connection_handler(string transport)
    {
        // A middleware that goes async finishes the connection off the client's receive path, on another thread
        // than the one that will read the client's first event. The connection handler's synchronous part is slow.
        var host = await StartAsync(io =>
        {
            io.Use(async (_, next) =>
            {
                await Task.Delay(20);
                await next();
            });
            io.OnConnection(socket =>
            {
                Thread.Sleep(300);
                socket.On("first", e => socket.EmitAsync("first-seen", e.Get<int>(0)));
                socket.EmitAsync("welcome");
            });
        });
        var h = await host.Driver.CallForHandleAsync("sio.connect", new
        {
            url = host.Url,
            opts = TransportOpts(transport),
            emitOnConnect = new { @event = "first", args = new[] { 5 } },
        });
        Assert.Equal(5, (await host.Driver.NextSocketEventAsync(h, "first-seen"))[0]!.GetValue<int>());
    }

    [GeneratedRegex("^40\\{\"sid\":\"[^\"]+\"\\}$")]
    private static partial Regex ConnectAck();

    [Fact]
    public async Task The_CONNECT_ack_goes_out_before_what_the_connection_handlers_emit()
    {
        // socket.io-client buffers events that arrive before the ack, so this is checked on the raw wire.
        var host = await StartAsync(io => io.OnConnection(socket => socket.EmitAsync("welcome", socket.Id)));
        using var ws = new System.Net.WebSockets.ClientWebSocket();
        await ws.ConnectAsync(new Uri(host.Url.Replace("http://", "ws://", StringComparison.Ordinal) + "/socket.io/?EIO=4&transport=websocket"), CancellationToken.None).WithTimeout();
        async Task<string> NextAsync()
        {
            var buffer = new byte[4096];
            string text;
            do
            {
                var result = await ws.ReceiveAsync(buffer, CancellationToken.None).WithTimeout();
                text = System.Text.Encoding.UTF8.GetString(buffer, 0, result.Count);
            }
            while (text == "2"); // a heartbeat may come in between
            return text;
        }
        Assert.StartsWith("0{", await NextAsync(), StringComparison.Ordinal);
        await ws.SendAsync("40"u8.ToArray(), System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None).WithTimeout();
        Assert.Matches(ConnectAck(), await NextAsync());
        Assert.StartsWith("42[\"welcome\",", await NextAsync(), StringComparison.Ordinal);
    }
}

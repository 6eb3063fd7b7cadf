using System.Text.Json.Nodes;
using Parley.Testing;

namespace Parley.Clients.Tests;

/// <summary>How a client library is asked to connect.</summary>
/// <param name="Url">The server URL followed by the namespace (<c>http://127.0.0.1:5000/other</c>).</param>
/// <param name="Transport"><c>polling</c> or <c>websocket</c> alone, or <c>upgrade</c> (polling first, then WebSocket).</param>
/// <param name="Cookie">A <c>Cookie</c> header for the handshake.</param>
public sealed record ConnectRequest(string Url, string Transport, string? Cookie = null);

/// <summary>
/// One Socket.IO client of some library, connected (<see cref="Id"/>) or refused (<see cref="Error"/>). Arguments
/// arrive as JSON, binary as <c>{"$bin": base64}</c> (<see cref="DriverBinary"/>) whatever the library, so one test
/// body checks every library.
/// </summary>
public abstract class InteropClient : IAsyncDisposable
{
    /// <summary>The socket id, when connected.</summary>
    public string? Id { get; protected set; }

    /// <summary>The connect_error message, when refused.</summary>
    public string? Error { get; protected set; }

    /// <summary>
    /// Declares an event the test will wait for, before it can arrive. Libraries whose catch-all misses some events
    /// listen to it by name; for the others this does nothing.
    /// </summary>
    public virtual void Listen(string eventName)
    {
    }

    /// <summary>Emits without an ack.</summary>
    public abstract Task EmitAsync(string eventName, params object?[] args);

    /// <summary>Emits with an ack and returns the ack's first argument.</summary>
    public abstract Task<JsonNode?> EmitWithAckAsync(string eventName, params object?[] args);

    /// <summary>From now on, answers the server's <paramref name="eventName"/> acks with <paramref name="reply"/>.</summary>
    public abstract Task AckWithAsync(string eventName, params object?[] reply);

    /// <summary>The arguments of the next event named <paramref name="eventName"/>, skipping other events.</summary>
    public abstract Task<JsonArray> NextEventAsync(string eventName);

    /// <summary>The next event, whatever it is.</summary>
    public abstract Task<(string Name, JsonArray Args)> NextAnyEventAsync();

    public abstract ValueTask DisposeAsync();
}

/// <summary>Makes clients of one library.</summary>
public interface IInteropClientFactory : IAsyncDisposable
{
    Task<InteropClient> ConnectAsync(ConnectRequest request);
}

/// <summary>
/// A client behind a line driver: the official socket.io-client (test/js/driver.mjs) or python-socketio
/// (test/python/driver.py), which speak the same protocol.
/// </summary>
public sealed class LineDriverClient : InteropClient
{
    private readonly NodeDriver _driver;
    private readonly string _h;

    private LineDriverClient(NodeDriver driver, string h)
    {
        _driver = driver;
        _h = h;
    }

    public static async Task<InteropClient> ConnectAsync(NodeDriver driver, ConnectRequest request, string? parser = null)
    {
        var opts = new JsonObject();
        if (parser is not null)
        {
            opts["parser"] = parser;
        }
        if (request.Transport != "upgrade")
        {
            opts["transports"] = new JsonArray(request.Transport);
        }
        if (request.Cookie is not null)
        {
            opts["extraHeaders"] = new JsonObject { ["Cookie"] = request.Cookie };
        }
        var h = await driver.CallForHandleAsync("sio.connect", new { url = request.Url, opts });
        var client = new LineDriverClient(driver, h);
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (client.Id is null && client.Error is null)
        {
            foreach (var e in driver.Drain(h))
            {
                if (e.Event == "connect")
                {
                    client.Id = e.Data!["id"]!.GetValue<string>();
                }
                else if (e.Event == "connect_error")
                {
                    client.Error = e.Data!["message"]!.GetValue<string>();
                }
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{h}: neither connect nor connect_error; driver stderr: {driver.Stderr}");
            }
            await Task.Delay(10);
        }
        return client;
    }

    private static object? ToWire(object? arg) => arg is byte[] bytes ? DriverBinary.Wrap(bytes) : arg;

    public override Task EmitAsync(string eventName, params object?[] args) =>
        _driver.CallAsync("sio.emit", new { h = _h, @event = eventName, args = args.Select(ToWire).ToArray() });

    public override Task<JsonNode?> EmitWithAckAsync(string eventName, params object?[] args) =>
        _driver.CallAsync("sio.emit", new { h = _h, @event = eventName, args = args.Select(ToWire).ToArray(), ack = true, timeout = 10_000 });

    public override Task AckWithAsync(string eventName, params object?[] reply) =>
        _driver.CallAsync("sio.ackWith", new { h = _h, @event = eventName, reply = reply.Select(ToWire).ToArray() });

    public override Task<JsonArray> NextEventAsync(string eventName) => _driver.NextSocketEventAsync(_h, eventName);

    public override async Task<(string Name, JsonArray Args)> NextAnyEventAsync()
    {
        var e = await _driver.NextEventAsync(_h, "event");
        return (e!["name"]!.GetValue<string>(), e["args"]!.AsArray());
    }

    public override async ValueTask DisposeAsync()
    {
        if (Id is not null)
        {
            await _driver.CallAsync("sio.disconnect", new { h = _h });
        }
    }
}

/// <summary>
/// Clients of a line driver process (which its owner, the server fixture, stops); with <paramref name="parser"/>
/// (<c>msgpack</c>), the driver's clients use that Socket.IO parser.
/// </summary>
public sealed class LineDriverFactory(NodeDriver driver, string? parser = null) : IInteropClientFactory
{
    public Task<InteropClient> ConnectAsync(ConnectRequest request) => LineDriverClient.ConnectAsync(driver, request, parser);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

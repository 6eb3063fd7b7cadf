using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Parley.Testing;

/// <summary>
/// Runs <c>test/js/driver.mjs</c> (the official engine.io-client and socket.io-client from npm) and talks to it
/// in JSON lines: commands go in, replies and client events come out.
/// </summary>
public sealed class NodeDriver : IAsyncDisposable
{
    private readonly NodeProcess _node;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<JsonNode?>> _pending = new();
    private readonly ConcurrentDictionary<string, Channel<DriverEvent>> _events = new();
    private readonly Task _reader;
    private long _nextId;

    private NodeDriver(NodeProcess node)
    {
        _node = node;
        _reader = Task.Run(ReadLoopAsync);
    }

    /// <summary>Starts a driver process (or any script in test/js speaking the same line protocol).</summary>
    public static NodeDriver Start(string script = "driver.mjs", IDictionary<string, string>? environment = null) =>
        new(NodeProcess.Start(script, environment));

    /// <summary>Starts <c>test/python/driver.py</c>: python-socketio behind the same line protocol (its sio.* operations).</summary>
    public static NodeDriver StartPython() => new(NodeProcess.StartPython("driver.py"));

    /// <summary>What the driver wrote to stderr so far.</summary>
    public string Stderr => _node.Stderr;

    /// <summary>Sends a command and awaits its reply; throws when the driver reports an error.</summary>
    public async Task<JsonNode?> CallAsync(string op, object? args = null, TimeSpan? timeout = null)
    {
        var id = Interlocked.Increment(ref _nextId);
        var command = args is null ? new JsonObject() : JsonSerializer.SerializeToNode(args)!.AsObject();
        command["id"] = id;
        command["op"] = op;
        var tcs = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = tcs;
        await _node.Input.WriteLineAsync(command.ToJsonString()).WithTimeout();
        await _node.Input.FlushAsync().WithTimeout();
        try
        {
            return await tcs.Task.WithTimeout(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"node driver did not answer {op} in time; stderr: {Stderr}");
        }
    }

    /// <summary>Sends a command whose result is a string (a handle).</summary>
    public async Task<string> CallForHandleAsync(string op, object? args = null) =>
        (await CallAsync(op, args))!.GetValue<string>();

    /// <summary>Waits for the next event named <paramref name="eventName"/> of handle <paramref name="handle"/>.</summary>
    public async Task<JsonNode?> NextEventAsync(string handle, string eventName, TimeSpan? timeout = null, Func<JsonNode?, bool>? where = null) =>
        (await NextOfAsync(handle, [eventName], timeout, where)).Data;

    /// <summary>Waits for the next event of <paramref name="handle"/> named any of <paramref name="eventNames"/>.</summary>
    public async Task<(string Event, JsonNode? Data)> NextOfAsync(string handle, string[] eventNames, TimeSpan? timeout = null, Func<JsonNode?, bool>? where = null)
    {
        var channel = EventsOf(handle);
        using var cts = new CancellationTokenSource(timeout ?? TestTimeouts.Default);
        try
        {
            while (true)
            {
                var e = await channel.Reader.ReadAsync(cts.Token);
                if (eventNames.Contains(e.Event) && (where is null || where(e.Data)))
                {
                    return (e.Event, e.Data);
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no '{string.Join("' or '", eventNames)}' event for {handle} in time; stderr: {Stderr}");
        }
    }

    /// <summary>Waits for the next socket.io event (onAny) named <paramref name="name"/>; returns its arguments.</summary>
    public async Task<JsonArray> NextSocketEventAsync(string handle, string name, TimeSpan? timeout = null)
    {
        var data = await NextEventAsync(handle, "event", timeout, d => d?["name"]?.GetValue<string>() == name);
        return data!["args"]!.AsArray();
    }

    /// <summary>Takes every event queued so far for a handle, without waiting.</summary>
    public List<DriverEvent> Drain(string handle)
    {
        var list = new List<DriverEvent>();
        while (EventsOf(handle).Reader.TryRead(out var e))
        {
            list.Add(e);
        }
        return list;
    }

    /// <summary>Asserts that no event named <paramref name="eventName"/> arrives for a handle during <paramref name="window"/>.</summary>
    public async Task<bool> ReceivesNoneAsync(string handle, string eventName, TimeSpan window, Func<JsonNode?, bool>? where = null)
    {
        try
        {
            await NextEventAsync(handle, eventName, window, where);
            return false;
        }
        catch (TimeoutException)
        {
            return true;
        }
    }

    private Channel<DriverEvent> EventsOf(string handle) =>
        _events.GetOrAdd(handle, _ => Channel.CreateUnbounded<DriverEvent>());

    private async Task ReadLoopAsync()
    {
        while (await _node.Output.ReadLineAsync() is { } line)
        {
            JsonNode? node;
            try
            {
                node = JsonNode.Parse(line);
            }
            catch (JsonException)
            {
                continue;
            }
            if (node is null)
            {
                continue;
            }
            if (node["h"] is { } h)
            {
                await EventsOf(h.GetValue<string>()).Writer.WriteAsync(new DriverEvent(node["event"]!.GetValue<string>(), node["data"]));
                continue;
            }
            if (node["id"] is JsonValue idValue && idValue.TryGetValue<long>(out var id) && _pending.TryRemove(id, out var tcs))
            {
                if (node["ok"]!.GetValue<bool>())
                {
                    tcs.TrySetResult(node["result"]);
                }
                else
                {
                    tcs.TrySetException(new NodeDriverException(node["error"]?.GetValue<string>() ?? "error"));
                }
            }
            else if (node["error"] is { } error)
            {
                _node.AppendStderr(error.ToString());
            }
        }
        foreach (var tcs in _pending.Values)
        {
            tcs.TrySetException(new NodeDriverException("driver exited; stderr: " + Stderr));
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _node.StopAsync(TimeSpan.FromSeconds(3));
            await _reader.WaitAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        finally
        {
            await _node.DisposeAsync();
        }
    }
}

/// <summary>An event a driven client reported.</summary>
public sealed record DriverEvent(string Event, JsonNode? Data);

/// <summary>The driver answered a command with an error.</summary>
public sealed class NodeDriverException(string message) : Exception(message);

/// <summary>Helpers for the <c>{"$bin": base64}</c> convention of the driver.</summary>
public static class DriverBinary
{
    /// <summary>Wraps bytes for the driver.</summary>
    public static JsonObject Wrap(byte[] bytes) => new() { ["$bin"] = Convert.ToBase64String(bytes) };

    /// <summary>Unwraps bytes from the driver, or null when the node is not binary.</summary>
    public static byte[]? Unwrap(JsonNode? node) =>
        node is JsonObject o && o["$bin"] is JsonValue v ? Convert.FromBase64String(v.GetValue<string>()) : null;
}

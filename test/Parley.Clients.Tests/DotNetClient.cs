using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Parley.Testing;
using SocketIOClient;
using SocketIOClient.Transport;

namespace Parley.Clients.Tests;

/// <summary>A client of SocketIOClient (NuGet, doghappy/socket.io-client-csharp), in this process.</summary>
public sealed class DotNetClient : InteropClient
{
    private readonly SocketIO _socket;
    private readonly Channel<(string Name, JsonArray Args)> _events = Channel.CreateUnbounded<(string, JsonArray)>();
    private readonly ConcurrentDictionary<string, object?[]> _acks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _listened = new(StringComparer.Ordinal);

    private DotNetClient(SocketIO socket)
    {
        _socket = socket;
        _socket.OnAny(OnAny);
    }

    public static async Task<InteropClient> ConnectAsync(ConnectRequest request)
    {
        var options = new SocketIOOptions
        {
            EIO = 4,
            Reconnection = false,
            ConnectionTimeout = TestTimeouts.Default,
            Transport = request.Transport == "websocket" ? TransportProtocol.WebSocket : TransportProtocol.Polling,
            AutoUpgrade = request.Transport == "upgrade",
        };
        if (request.Cookie is not null)
        {
            options.ExtraHeaders = new Dictionary<string, string>(StringComparer.Ordinal) { ["Cookie"] = request.Cookie };
        }
        var client = new DotNetClient(new SocketIO(new Uri(request.Url), options));
        var outcome = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        client._socket.OnConnected += (_, _) => outcome.TrySetResult(null);
        client._socket.OnError += (_, message) => outcome.TrySetResult(message);
        var connecting = client._socket.ConnectAsync();
        var error = await outcome.Task.WithTimeout();
        if (error is null)
        {
            await connecting.WithTimeout();
            client.Id = client._socket.Id;
        }
        else
        {
            client.Error = ErrorMessage(error);
        }
        return client;
    }

    /// <summary>SocketIOClient reports a refusal as the CONNECT_ERROR payload's JSON; the message is inside.</summary>
    private static string ErrorMessage(string error)
    {
        try
        {
            using var doc = JsonDocument.Parse(error);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("message", out var m) ? m.GetString()! : error;
        }
        catch (JsonException)
        {
            return error;
        }
    }

    /// <summary>SocketIOClient 3.0.6 passes binary events to handlers by name only, never to OnAny.</summary>
    public override void Listen(string eventName)
    {
        if (_listened.TryAdd(eventName, true))
        {
            _socket.On(eventName, response => OnEvent(eventName, response));
        }
    }

    private void OnAny(string eventName, SocketIOResponse response)
    {
        if (!_listened.ContainsKey(eventName))
        {
            OnEvent(eventName, response);
        }
    }

    private void OnEvent(string eventName, SocketIOResponse response)
    {
        _events.Writer.TryWrite((eventName, Arguments(response)));
        if (response.PacketId >= 0 && _acks.TryGetValue(eventName, out var reply))
        {
            _ = response.CallbackAsync(reply);
        }
    }

    /// <summary>The response's arguments, with each binary placeholder replaced by its bytes as <c>{"$bin": …}</c>.</summary>
    private static JsonArray Arguments(SocketIOResponse response)
    {
        var args = new JsonArray();
        for (var i = 0; i < response.Count; i++)
        {
            args.Add(WithBytes(JsonNode.Parse(response.GetValue(i).GetRawText()), response.InComingBytes));
        }
        return args;
    }

    private static JsonNode? WithBytes(JsonNode? node, IReadOnlyList<byte[]> bytes)
    {
        switch (node)
        {
            case JsonObject o when o["_placeholder"] is JsonValue p && p.TryGetValue<bool>(out var isPlaceholder) && isPlaceholder:
                return DriverBinary.Wrap(bytes[o["num"]!.GetValue<int>()]);
            case JsonObject o:
                foreach (var key in o.Select(kv => kv.Key).ToArray())
                {
                    o[key] = WithBytes(o[key]?.DeepClone(), bytes);
                }
                return o;
            case JsonArray a:
                return new JsonArray(a.Select(x => WithBytes(x?.DeepClone(), bytes)).ToArray());
            default:
                return node;
        }
    }

    public override Task EmitAsync(string eventName, params object?[] args) => _socket.EmitAsync(eventName, args);

    public override async Task<JsonNode?> EmitWithAckAsync(string eventName, params object?[] args)
    {
        var ack = new TaskCompletionSource<JsonArray>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _socket.EmitAsync(eventName, response => ack.TrySetResult(Arguments(response)), args).WithTimeout();
        var reply = await ack.Task.WithTimeout();
        return reply.Count > 0 ? reply[0]?.DeepClone() : null;
    }

    public override Task AckWithAsync(string eventName, params object?[] reply)
    {
        _acks[eventName] = reply;
        Listen(eventName);
        return Task.CompletedTask;
    }

    public override async Task<JsonArray> NextEventAsync(string eventName)
    {
        using var cts = new CancellationTokenSource(TestTimeouts.Default);
        while (true)
        {
            var (name, args) = await _events.Reader.ReadAsync(cts.Token);
            if (name == eventName)
            {
                return args;
            }
        }
    }

    public override async Task<(string Name, JsonArray Args)> NextAnyEventAsync()
    {
        using var cts = new CancellationTokenSource(TestTimeouts.Default);
        return await _events.Reader.ReadAsync(cts.Token);
    }

    public override async ValueTask DisposeAsync()
    {
        try
        {
            if (Id is not null)
            {
                await _socket.DisconnectAsync().WithTimeout();
            }
        }
        finally
        {
            _socket.Dispose();
        }
    }
}

/// <summary>Clients of SocketIOClient.</summary>
public sealed class DotNetClientFactory : IInteropClientFactory
{
    public Task<InteropClient> ConnectAsync(ConnectRequest request) => DotNetClient.ConnectAsync(request);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

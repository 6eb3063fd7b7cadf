using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Parley.Adapters;
using Parley.Serialization;

namespace Parley.Redis;

/// <summary>
/// What the classic and the sharded adapter share: the node uid, the requests waiting for other nodes' answers,
/// the broadcasts waiting for remote acks, and the local side of every remote request.
/// Room state stays local (ParleyAdapter); only requests cross Redis.
/// </summary>
internal abstract class RedisAdapterBase : ParleyAdapter
{
    private protected readonly ConcurrentDictionary<string, PendingRequest> Requests = new(StringComparer.Ordinal);
    private protected readonly ConcurrentDictionary<string, AckRequest> AckRequests = new(StringComparer.Ordinal);

    protected RedisAdapterBase(Namespace @namespace, RedisConnections connections, RedisAdapterOptions options, string uid)
        : base(@namespace)
    {
        Connections = connections;
        Options = options;
        Uid = uid;
        Logger = connections.Logger;
    }

    /// <summary>This node's id in the cluster (classic: uid2(6); sharded: 16 hex chars).</summary>
    public string Uid { get; }

    internal RedisConnections Connections { get; }

    internal RedisAdapterOptions Options { get; }

    private protected ILogger Logger { get; }

    private protected JsonSerializerOptions WireOptions => Namespace.Server.WireOptions;

    /// <summary>The raw count of subscribers of the request (classic) or namespace (sharded) channel.</summary>
    private protected abstract Task<long> CountSubscribersAsync();

    /// <summary>
    /// How many nodes serve the namespace. While Redis is down there is no way to know: the node acts alone (logged),
    /// so local broadcasts with acks and local fetches keep working.
    /// </summary>
    public override async Task<int> ServerCountAsync()
    {
        try
        {
            return (int)Math.Max(1, await CountSubscribersAsync().ConfigureAwait(false));
        }
        catch (Resp.RespException e)
        {
            RedisLog.ServerCountFailed(Logger, Namespace.Name, e);
            return 1;
        }
    }

    /// <summary>Registers a broadcast waiting for remote acks; forgotten after the ack timeout (upstream: <c>setTimeout(…, opts.flags.timeout)</c>).</summary>
    private protected void AddAckRequest(string requestId, BroadcastOptions options, Action<int> onClientCount, Action<EventArgument[]?> onAck)
    {
        AckRequests[requestId] = new AckRequest(onClientCount, onAck);
        // Without a timeout Parley waits for every ack; keep remote answers coming for a minute at most.
        var keep = (options.Flags.Timeout ?? TimeSpan.FromMinutes(1)) + TimeSpan.FromSeconds(1);
        _ = ForgetAckLaterAsync(requestId, keep);
    }

    private async Task ForgetAckLaterAsync(string requestId, TimeSpan delay)
    {
        await Task.Delay(delay).ConfigureAwait(false);
        AckRequests.TryRemove(requestId, out _);
    }

    /// <summary>Waits for a request's answers; fails as socket.io does after the timeout.</summary>
    private protected async Task<List<(JsonElement Value, IReadOnlyList<ReadOnlyMemory<byte>> Attachments)>> WaitAsync(string requestId, PendingRequest request, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            await request.Done.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            return request.Results;
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"timeout reached: only {request.Received} responses received out of {request.Expected}");
        }
        finally
        {
            Requests.TryRemove(requestId, out _);
        }
    }

    /// <summary>The sockets of a fetch: local ones first, then each node's report.</summary>
    private protected List<RemoteSocket> ToRemoteSockets(IReadOnlyList<RemoteSocket> local, List<(JsonElement Value, IReadOnlyList<ReadOnlyMemory<byte>> Attachments)> answers)
    {
        var list = new List<RemoteSocket>(local);
        foreach (var (sockets, _) in answers)
        {
            if (sockets.ValueKind != JsonValueKind.Array)
            {
                continue;
            }
            foreach (var s in sockets.EnumerateArray())
            {
                list.Add(RedisWire.ReadSocket(Namespace, s));
            }
        }
        return list;
    }

    /// <summary>
    /// Runs the <c>Namespace.On</c> handlers for an event from another node; <paramref name="answer"/> gets the
    /// handler's first ack argument (socket.io: "only one argument is expected").
    /// </summary>
    private protected void DeliverServerSideEmit(JsonElement packet, IReadOnlyList<ReadOnlyMemory<byte>> attachments, Action<JsonElement, IReadOnlyList<ReadOnlyMemory<byte>>>? answer)
    {
        if (packet.ValueKind != JsonValueKind.Array || packet.GetArrayLength() == 0 || packet[0].ValueKind != JsonValueKind.String)
        {
            return;
        }
        var eventName = packet[0].GetString()!;
        var args = new EventArgument[packet.GetArrayLength() - 1];
        for (var i = 0; i < args.Length; i++)
        {
            args[i] = new EventArgument(packet[i + 1], attachments);
        }
        Action<object?[]>? ack = null;
        if (answer is not null)
        {
            var called = 0;
            ack = values =>
            {
                if (Interlocked.Exchange(ref called, 1) == 1)
                {
                    return;
                }
                var (value, valueAttachments) = RedisWire.FirstArgument(values, WireOptions);
                answer(value, valueAttachments);
            };
        }
        Namespace.OnServerSideEmit(eventName, args, ack);
    }

    private protected static EventArgument[] AckArguments(JsonElement value, IReadOnlyList<ReadOnlyMemory<byte>> attachments) =>
        [new EventArgument(value, attachments)];

    /// <summary>The first ack argument of a local client, to send back to the requesting node.</summary>
    private protected static (JsonElement Value, IReadOnlyList<ReadOnlyMemory<byte>> Attachments) FirstAck(EventArgument[] args)
    {
        if (args.Length == 0)
        {
            return (JsonDocument.Parse("null").RootElement, []);
        }
        // Re-serialize so placeholders are renumbered against this argument's own attachments.
        var payload = SocketPayload.Create(null, [args[0]], new JsonSerializerOptions());
        using var document = JsonDocument.Parse(payload.Json);
        return (document.RootElement[0].Clone(), payload.Attachments);
    }

    public override async ValueTask DisposeAsync()
    {
        foreach (var request in Requests.Values)
        {
            request.Done.TrySetCanceled();
        }
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>A request waiting for <c>Expected</c> answers from other nodes.</summary>
    internal sealed class PendingRequest(int type, int expected)
    {
        private readonly Lock _lock = new();

        public int Type { get; } = type;

        public int Expected { get; } = expected;

        public int Received { get; private set; }

        public List<(JsonElement Value, IReadOnlyList<ReadOnlyMemory<byte>> Attachments)> Results { get; } = [];

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Add(JsonElement value, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
        {
            lock (_lock)
            {
                Received++;
                Results.Add((value, attachments));
                if (Received >= Expected)
                {
                    Done.TrySetResult();
                }
            }
        }
    }

    /// <summary>A broadcast with acks: each node reports its client count, then one answer per client.</summary>
    internal sealed record AckRequest(Action<int> OnClientCount, Action<EventArgument[]?> OnAck);
}

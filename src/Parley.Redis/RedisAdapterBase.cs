using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Parley.Adapters;
using StackExchange.Redis;
using Parley.Serialization;

namespace Parley.Redis;

/// <summary>
/// What the classic and the sharded adapter share: the node uid, the requests waiting for other nodes' answers,
/// the broadcasts waiting for remote acks, and the local side of every remote request.
/// Room state stays local (ParleyAdapter); only requests cross Redis.
/// </summary>
internal abstract class RedisAdapterBase : ParleyAdapter
{
    private static readonly Task<int> s_alone = Task.FromResult(1);

    private protected readonly ConcurrentDictionary<string, PendingRequest> Requests = new(StringComparer.Ordinal);
    private protected readonly ConcurrentDictionary<string, AckRequest> AckRequests = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _disposing = new();
    private readonly Lock _countLock = new();
    private Task<int>? _counting;
    private int _count;
    private long _countedAt;
    private bool _hasCount;
    private readonly TimeProvider _time;
    // Made by InitAsync, before its first subscription: an adapter that is never initialised (a dynamic namespace's
    // parent, the loser of a race to create a namespace) has no workers and does not hold readiness back.
    private RedisInbox? _inbox;
    private RedisInbox? _serverEvents;
    private int _initialized;
    private int _disposed;

    protected RedisAdapterBase(Namespace @namespace, RedisConnections connections, RedisAdapterOptions options, TimeProvider time, string uid)
        : base(@namespace)
    {
        Connections = connections;
        Options = options;
        _time = time;
        Uid = uid;
        Logger = connections.Logger;
    }

    /// <summary>This node's id in the cluster (classic: uid2(6); sharded: 16 hex chars).</summary>
    public string Uid { get; }

    internal RedisConnections Connections { get; }

    internal RedisAdapterOptions Options { get; }

    private protected ILogger Logger { get; }

    /// <summary>
    /// A subscriber handler that queues the message on this namespace's inbox, where messages are handled in order,
    /// off the Redis read loop. Only subscriptions carry messages, and InitAsync makes the inbox before the first.
    /// </summary>
    private protected RedisMessageHandler Queued(RedisMessageHandler handler) => (in RedisMessage message) => _inbox!.Post(handler, in message);

    private protected JsonSerializerOptions WireOptions => Namespace.Server.WireOptions;

    /// <summary>
    /// A broadcast with acks across the cluster waits at most <see cref="RedisAdapterOptions.RequestsTimeout"/> when
    /// the caller set no timeout: remote answers are only kept that long, so waiting longer could only hang.
    /// </summary>
    public override TimeSpan? DefaultAckTimeout => Options.RequestsTimeout;

    /// <summary>The raw count of subscribers of the request (classic) or namespace (sharded) channel.</summary>
    private protected abstract Task<long> CountSubscribersAsync();

    /// <summary>Makes this namespace's subscriptions (remembered by the subscriber, so they survive reconnects).</summary>
    private protected abstract Task SubscribeAsync();

    /// <summary>
    /// Connects (in the background, retrying while Redis is down), subscribes, and counts as initialising until
    /// both connections are up with the subscriptions confirmed: <see cref="RedisConnections.IsReady"/> waits for it.
    /// Once per adapter: a second call has nothing to do.
    /// </summary>
    public sealed override Task InitAsync() =>
        Interlocked.Exchange(ref _initialized, 1) == 0 ? InitOnceAsync() : Task.CompletedTask;

    private async Task InitOnceAsync()
    {
        // Up to the first await this runs inside ParleyServer.Initialize, before NamespaceCreated: a node that created
        // its namespace is not ready before the subscriptions are.
        Connections.BeginInit();
        try
        {
            _inbox = new RedisInbox(Options.MaxQueuedMessages, Logger, Namespace.Name);
            // Server-side events get an inbox of their own: a handler that blocks delays other server-side events, not
            // the broadcasts to this node's sockets.
            _serverEvents = new RedisInbox(Options.MaxQueuedMessages, Logger, Namespace.Name);
            _ = Connections.StartAsync();
            await SubscribeAsync().ConfigureAwait(false);
            // A subscription refused while the subscriber was down is in its set and restored before it counts as up.
            await Connections.WaitUntilConnectedAsync(_disposing.Token).ConfigureAwait(false);
            RedisLog.AdapterReady(Logger, Namespace.Name);
        }
        catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException)
        {
            // Shutting down: the connections (or this adapter) were disposed while it waited.
        }
        finally
        {
            Connections.EndInit();
        }
    }

    /// <summary>
    /// How many nodes serve the namespace, for requests that wait for one answer per node. It never waits for a Redis
    /// that is known to be down: the node then acts alone, like a single node, so local broadcasts with acks and local
    /// fetches keep working. A count is reused for <see cref="RedisAdapterOptions.ServerCountCacheDuration"/>, and
    /// concurrent callers share one query.
    /// </summary>
    public override Task<int> ServerCountAsync()
    {
        if (!Connections.IsConnected)
        {
            return s_alone;
        }
        TaskCompletionSource<int> counting;
        lock (_countLock)
        {
            if (_hasCount && _time.GetElapsedTime(_countedAt) < Options.ServerCountCacheDuration)
            {
                return Task.FromResult(_count);
            }
            if (_counting is { } shared)
            {
                return shared;
            }
            counting = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            _counting = counting.Task;
        }
        _ = CountAsync(counting);
        return counting.Task;
    }

    private async Task CountAsync(TaskCompletionSource<int> counting)
    {
        var count = 1;
        var cache = false;
        try
        {
            count = (int)Math.Max(1, await CountSubscribersAsync().ConfigureAwait(false));
            cache = true;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Not cached: the next request asks again (or skips asking once the connection is known to be down).
            RedisLog.ServerCountFailed(Logger, Namespace.Name, e);
        }
        lock (_countLock)
        {
            if (cache)
            {
                (_count, _countedAt, _hasCount) = (count, _time.GetTimestamp(), true);
            }
            _counting = null;
        }
        counting.TrySetResult(count);
    }

    /// <summary>
    /// Registers a broadcast waiting for remote acks; forgotten after the ack timeout (upstream:
    /// <c>setTimeout(…, opts.flags.timeout)</c>), or <see cref="DefaultAckTimeout"/> when there is none.
    /// </summary>
    private protected void AddAckRequest(string requestId, BroadcastOptions options, Action<int> onClientCount, Action<EventArgument[]?> onAck)
    {
        AckRequests[requestId] = new AckRequest(onClientCount, onAck);
        var keep = (options.Flags.Timeout ?? Options.RequestsTimeout) + TimeSpan.FromSeconds(1);
        _ = ForgetAckLaterAsync(requestId, keep);
    }

    private async Task ForgetAckLaterAsync(string requestId, TimeSpan delay)
    {
        await Task.Delay(delay).ConfigureAwait(false);
        AckRequests.TryRemove(requestId, out _);
    }

    /// <summary>
    /// Waits for a request's answers; fails as socket.io does after the timeout. A request whose publish failed
    /// (Redis down, queue full) is abandoned at once and returns what it has: this node alone.
    /// </summary>
    private protected async Task<List<(JsonElement Value, IReadOnlyList<ReadOnlyMemory<byte>> Attachments)>> WaitAsync(string requestId, PendingRequest request, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            await request.Done.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            Connections.Metrics.RequestEnded(started, timedOut: false);
            return request.TakeResults();
        }
        catch (TimeoutException)
        {
            Connections.Metrics.RequestEnded(started, timedOut: true);
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
        // Called from the inbox's worker, so after InitAsync.
        _serverEvents!.Post(() => OnServerSideEmit(eventName, args, ack));
    }

    private protected static EventArgument[] AckArguments(JsonElement value, IReadOnlyList<ReadOnlyMemory<byte>> attachments) =>
        [new EventArgument(value, attachments)];

    /// <summary>The first ack argument of a local client, to send back to the requesting node.</summary>
    private protected (JsonElement Value, IReadOnlyList<ReadOnlyMemory<byte>> Attachments) FirstAck(EventArgument[] args)
    {
        if (args.Length == 0)
        {
            return (JsonDocument.Parse("null").RootElement, []);
        }
        // Re-serialize so placeholders are renumbered against this argument's own attachments; with the server's
        // wire options, as every other payload it sends.
        var payload = SocketPayload.Create(null, [args[0]], WireOptions);
        using var document = JsonDocument.Parse(payload.Json);
        return (document.RootElement[0].Clone(), payload.Attachments);
    }

    public override async ValueTask DisposeAsync()
    {
        // The server disposes its namespaces' adapters, and the host may dispose the server twice (DI and shutdown).
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await _disposing.CancelAsync().ConfigureAwait(false);
        await UnsubscribeAsync().WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        foreach (var request in Requests.Values)
        {
            request.Done.TrySetCanceled();
        }
        if (_inbox is not null)
        {
            await _inbox.DisposeAsync().ConfigureAwait(false);
        }
        if (_serverEvents is not null)
        {
            await _serverEvents.DisposeAsync().ConfigureAwait(false);
        }
        _disposing.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Undoes <see cref="SubscribeAsync"/> when the namespace goes away.</summary>
    private protected abstract Task UnsubscribeAsync();

    /// <summary>A request waiting for <c>Expected</c> answers from other nodes.</summary>
    internal sealed class PendingRequest(int type, int expected)
    {
        private readonly Lock _lock = new();

        public int Type { get; } = type;

        public int Expected { get; } = expected;

        public int Received { get; private set; }

        private List<(JsonElement Value, IReadOnlyList<ReadOnlyMemory<byte>> Attachments)> Results { get; } = [];

        /// <summary>The answers so far (a copy: a late answer may still arrive while the caller reads them).</summary>
        public List<(JsonElement Value, IReadOnlyList<ReadOnlyMemory<byte>> Attachments)> TakeResults()
        {
            lock (_lock)
            {
                return [.. Results];
            }
        }

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The request could not be published: nobody else will answer, stop waiting.</summary>
        public void Abandon() => Done.TrySetResult();

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

using Microsoft.Extensions.Logging;
using Parley.Adapters;
using StackExchange.Redis;

namespace Parley.Redis;

/// <summary>
/// What the classic and the sharded adapter share on top of the public <see cref="ClusterAdapter"/> contract, which
/// owns every cluster operation and the requests waiting for answers: the Redis connections, the inbox that takes
/// messages off the Redis read loop, readiness, a cached server count, and the metrics and logs of publishes.
/// A subclass is the transport: its channels, its encoding, and the decoding it hands to
/// <see cref="ClusterAdapter.OnMessage"/>.
/// </summary>
internal abstract class RedisAdapterBase : ClusterAdapter
{
    private static readonly Task<int> s_alone = Task.FromResult(1);
    private static readonly Task<string?> s_noOffset = Task.FromResult<string?>(null);

    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _countLock = new();
    private readonly TimeProvider _time;
    private Task<int>? _counting;
    private int _count;
    private long _countedAt;
    private bool _hasCount;
    // Made by InitAsync, before its first subscription: an adapter that is never initialised (a dynamic namespace's
    // parent, the loser of a race to create a namespace) has no worker and does not hold readiness back.
    private RedisInbox? _inbox;
    private int _initialized;
    private int _disposed;

    /// <summary><paramref name="uid"/>: the node id, or null for the contract's (16 hex characters, as the sharded adapter's).</summary>
    protected RedisAdapterBase(Namespace @namespace, RedisConnections connections, RedisAdapterOptions options, TimeProvider time, string? uid)
        : base(@namespace, new ClusterAdapterOptions { RequestsTimeout = options.RequestsTimeout }, uid ?? ClusterAdapter.NewId())
    {
        Connections = connections;
        RedisOptions = options;
        _time = time;
        Logger = connections.Logger;
    }

    internal RedisConnections Connections { get; }

    internal RedisAdapterOptions RedisOptions { get; }

    private protected ILogger Logger { get; }

    /// <summary>
    /// A subscriber handler that queues the message on this namespace's inbox, where messages are handled in order,
    /// off the Redis read loop. Only subscriptions carry messages, and InitAsync makes the inbox before the first.
    /// </summary>
    private protected RedisMessageHandler Queued(RedisMessageHandler handler) => (in RedisMessage message) => _inbox!.Post(handler, in message);

    /// <summary>
    /// Publishes on <paramref name="channel"/>; the task fails when the publish does (logged by
    /// <see cref="RedisConnections.PublishAsync"/>). Pub/sub keeps no log, so there is no offset.
    /// </summary>
    private protected Task<string?> PublishOn(RedisChannel channel, ReadOnlyMemory<byte> message)
    {
        var published = Connections.PublishAsync(channel, message);
        return published.IsCompletedSuccessfully ? s_noOffset : WaitAsync(published);

        static async Task<string?> WaitAsync(Task published)
        {
            await published.ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>Pub/sub keeps no log: a broadcast reaches local sockets first, never waiting on Redis.</summary>
    protected override bool HasOffsets => false;

    /// <summary>
    /// A failed publish was counted and logged, with the endpoint, by <see cref="RedisConnections.PublishAsync"/>
    /// (event 5003); anything else (a message this adapter could not encode) is logged by the contract.
    /// </summary>
    protected override void OnPublishFailed(ClusterMessage message, Exception exception)
    {
        if (exception is not (RedisException or TimeoutException or ObjectDisposedException))
        {
            base.OnPublishFailed(message, exception);
        }
    }

    protected override void OnRequestEnded(ClusterMessageType type, TimeSpan elapsed, bool timedOut) => Connections.Metrics.RequestEnded(elapsed, timedOut);

    /// <summary>The raw count of subscribers of the request (classic) or namespace (sharded) channel.</summary>
    private protected abstract Task<long> CountSubscribersAsync();

    /// <summary>Makes this namespace's subscriptions (remembered by the subscriber, so they survive reconnects).</summary>
    private protected abstract Task SubscribeAsync();

    /// <summary>Undoes <see cref="SubscribeAsync"/> when the namespace goes away.</summary>
    private protected abstract Task UnsubscribeAsync();

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
            _inbox = new RedisInbox(RedisOptions.MaxQueuedMessages, Logger, Namespace.Name);
            _ = Connections.StartAsync();
            await SubscribeAsync().ConfigureAwait(false);
            // A subscription refused while the subscriber was down is in its set and restored before it counts as up.
            await Connections.WaitUntilConnectedAsync(_stopping.Token).ConfigureAwait(false);
            RedisLog.AdapterReady(Logger, Namespace.Name);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
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
            if (_hasCount && _time.GetElapsedTime(_countedAt) < RedisOptions.ServerCountCacheDuration)
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

    public override async ValueTask DisposeAsync()
    {
        // The server disposes its namespaces' adapters, and the host may dispose the server twice (DI and shutdown).
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        await UnsubscribeAsync().WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        // Requests stop waiting and the server-side events worker stops before the inbox that feeds them.
        await base.DisposeAsync().ConfigureAwait(false);
        if (_inbox is not null)
        {
            await _inbox.DisposeAsync().ConfigureAwait(false);
        }
        _stopping.Dispose();
    }
}

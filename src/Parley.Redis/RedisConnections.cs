using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Parley.Internal;
using StackExchange.Redis;

namespace Parley.Redis;

/// <summary>
/// The one StackExchange.Redis multiplexer a Parley server shares between all its namespaces' adapters, as upstream
/// shares one <c>pubClient</c> and one <c>subClient</c>: PUBLISH/SPUBLISH and PUBSUB on its command connections,
/// subscriptions on its subscriber connections (RESP2: a socket each), routed per channel (and, on a Redis Cluster,
/// per shard) by StackExchange.Redis, which also restores them after a reconnect, a failover or a slot move.
/// <para>
/// Publishing never waits for Redis on the caller's path: the multiplexer is made with
/// <see cref="BacklogPolicy.FailFast"/>, so while it is down a PUBLISH fails at once instead of queueing; failures are
/// counted and logged at most once a second so an outage under traffic does not flood the log.
/// </para>
/// <para>
/// Each channel's messages come through a <see cref="ChannelMessageQueue"/>, read by one loop in arrival order
/// (StackExchange.Redis runs plain handlers concurrently, which would reorder a namespace's messages); the loop hands
/// them to the namespace's bounded inbox at once, so the queue stays short.
/// </para>
/// </summary>
internal sealed class RedisConnections : IAsyncDisposable
{
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan s_watch = TimeSpan.FromSeconds(1);

    private readonly ConfigurationOptions? _configuration;
    private readonly TaskCompletionSource<IConnectionMultiplexer> _multiplexer = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<RedisChannel, ChannelMessageQueue> _subscriptions = new();
    private readonly Action<Task<long>, object?> _onPublished;
    private readonly LogThrottle _publishFailures = new();
    private readonly Lock _initLock = new();
    private IConnectionMultiplexer? _current;
    private ISubscriber? _subscriber;
    private int _started;
    private int _initializing;
    private int _disposed;
    // Set by a failed publish, cleared by the watchdog (see WatchAsync).
    private int _publishFailed;
    private readonly CancellationTokenSource _stopping = new();
    // Completed when the last adapter that began initialising ends; null while none is.
    private TaskCompletionSource? _initialized;

    /// <summary>Connections of their own, made from <paramref name="configuration"/> (owned: closed on dispose).</summary>
    public RedisConnections(ConfigurationOptions configuration, ILoggerFactory loggerFactory)
        : this(loggerFactory, RedisConfiguration.Describe(configuration))
    {
        _configuration = configuration.Clone();
        _configuration.AbortOnConnectFail = false;
        _configuration.BacklogPolicy = BacklogPolicy.FailFast;
    }

    /// <summary>The application's multiplexer (not owned: left open on dispose).</summary>
    public RedisConnections(IConnectionMultiplexer multiplexer, ILoggerFactory loggerFactory)
        : this(loggerFactory, multiplexer.Configuration)
    {
        Attach(multiplexer);
    }

    private RedisConnections(ILoggerFactory loggerFactory, string endpoint)
    {
        _logger = loggerFactory.CreateLogger("Parley.Redis");
        Endpoint = endpoint;
        _onPublished = OnPublished;
    }

    public string Endpoint { get; }

    public ILogger Logger => _logger;

    /// <summary>The Parley.Redis meter's instruments this node's traffic is counted in.</summary>
    internal RedisMetrics Metrics { get; init; } = RedisMetrics.Shared;

    /// <summary>The multiplexer once made (null before the first connection attempt ends).</summary>
    public IConnectionMultiplexer? Multiplexer => _current;

    /// <summary>At least one command connection is up.</summary>
    public bool IsConnected => _current is { IsConnected: true };

    /// <summary>
    /// Connected, every subscription confirmed on a live subscriber connection, and every adapter started so far has
    /// ended its start-up: a broadcast published now reaches every subscribed node.
    /// </summary>
    public bool IsReady => IsConnected && SubscriptionsConnected && Volatile.Read(ref _initializing) == 0;

    /// <summary>Every subscription is confirmed by a server whose subscriber connection is live.</summary>
    public bool SubscriptionsConnected
    {
        get
        {
            var subscriber = _subscriber;
            if (subscriber is null)
            {
                return false;
            }
            foreach (var channel in _subscriptions.Keys)
            {
                // IsConnected alone is not enough: for a channel held by no server (its server failed) it answers
                // whether the server the channel would go to now is connected. SubscribedEndpoint is null until Redis
                // has confirmed the subscription on a server; IsConnected then asks about that server.
                if (subscriber.SubscribedEndpoint(channel) is null || !subscriber.IsConnected(channel))
                {
                    return false;
                }
            }
            return true;
        }
    }

    /// <summary>
    /// Makes the multiplexer once (not waiting for Redis: StackExchange.Redis keeps trying in the background);
    /// later calls return the same task.
    /// </summary>
    public Task StartAsync()
    {
        if (_configuration is not null && Interlocked.Exchange(ref _started, 1) == 0)
        {
            _ = ConnectAsync(_configuration);
        }
        return _multiplexer.Task;
    }

    private async Task ConnectAsync(ConfigurationOptions configuration)
    {
        try
        {
            Attach(await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false));
        }
        catch (Exception e)
        {
            // Only a configuration StackExchange.Redis cannot use at all gets here (AbortOnConnectFail is off).
            RedisLog.Disconnected(_logger, "command", Endpoint, e);
            _multiplexer.TrySetException(e);
        }
    }

    private void Attach(IConnectionMultiplexer multiplexer)
    {
        multiplexer.ConnectionFailed += OnConnectionFailed;
        multiplexer.ConnectionRestored += OnConnectionRestored;
        _subscriber = multiplexer.GetSubscriber();
        _current = multiplexer;
        _multiplexer.TrySetResult(multiplexer);
        _ = WatchAsync(multiplexer);
        if (_configuration is not null && Volatile.Read(ref _disposed) == 1)
        {
            // Disposed while connecting: close what is ours.
            _ = DisposeMultiplexerAsync(multiplexer);
        }
    }

    private static string Kind(ConnectionType type) => type == ConnectionType.Subscription ? "subscriber" : "command";

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e) =>
        RedisLog.Disconnected(_logger, Kind(e.ConnectionType) + " (" + e.EndPoint + ")", Endpoint, e.Exception ?? new RedisConnectionException(e.FailureType, CommandFlags.None, e.FailureType.ToString()));

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e) =>
        RedisLog.Connected(_logger, Kind(e.ConnectionType) + " (" + e.EndPoint + ")", Endpoint);

    /// <summary>
    /// Asks for the topology again (<see cref="IConnectionMultiplexer.ConfigureAsync"/>, which ends by re-making every
    /// subscription where the new map says) once a second while Redis answers but a subscription stays unconfirmed
    /// for two checks in a row, or an SPUBLISH failed. StackExchange.Redis re-reads the topology when a connection
    /// fails, which on a Redis Cluster is before a replica has been promoted: the shard subscriptions of the killed
    /// primary are then sent to it again and lost, and until its own config check (after the replica reports its new
    /// role, backing off from 1 s, or every 60 s) nothing re-routes them or the SPUBLISHes to that shard.
    /// </summary>
    private async Task WatchAsync(IConnectionMultiplexer multiplexer)
    {
        using var timer = new PeriodicTimer(s_watch);
        var unconfirmed = 0;
        var reconfiguring = false;
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                var publishFailed = Interlocked.Exchange(ref _publishFailed, 0) == 1;
                unconfirmed = SubscriptionsConnected ? 0 : unconfirmed + 1;
                if (!multiplexer.IsConnected || (unconfirmed < 2 && !publishFailed))
                {
                    reconfiguring = false;
                    continue;
                }
                if (!reconfiguring)
                {
                    // Once per episode: a shard that stays down would otherwise log every second.
                    reconfiguring = true;
                    RedisLog.Reconfiguring(_logger, Endpoint, publishFailed ? "a publish failed" : "a subscription is not confirmed");
                }
                try
                {
                    await multiplexer.ConfigureAsync().WaitAsync(_stopping.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is RedisException or TimeoutException)
                {
                    // Tried again on the next tick.
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
    }

    /// <summary>Completes once <see cref="IsReady"/> holds (now or after an outage); fails once the connections are disposed.</summary>
    public async Task WaitUntilReadyAsync(CancellationToken cancellationToken = default)
    {
        while (!IsReady)
        {
            await WaitUntilConnectedAsync(cancellationToken).ConfigureAwait(false);
            Task initialized;
            lock (_initLock)
            {
                initialized = _initialized?.Task ?? Task.CompletedTask;
            }
            await initialized.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Completes once a command connection is up and every subscription is confirmed. StackExchange.Redis raises no
    /// event when it has restored a subscription, so this polls (every 50 ms, start-up and recovery only).
    /// </summary>
    public async Task WaitUntilConnectedAsync(CancellationToken cancellationToken)
    {
        await _multiplexer.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        while (!(IsConnected && SubscriptionsConnected))
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
            await Task.Delay(s_poll, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>An adapter is making its first subscriptions: not ready until <see cref="EndInit"/>.</summary>
    public void BeginInit()
    {
        lock (_initLock)
        {
            if (_initializing++ == 0)
            {
                _initialized = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    public void EndInit()
    {
        lock (_initLock)
        {
            if (--_initializing == 0)
            {
                _initialized!.TrySetResult();
                _initialized = null;
            }
        }
    }

    // ---- subscriptions: SUBSCRIBE (literal), PSUBSCRIBE (pattern), SSUBSCRIBE (sharded) ----

    /// <summary>
    /// Subscribes <paramref name="channel"/>. Fire and forget: StackExchange.Redis keeps the subscription and makes it
    /// (again) whenever a subscriber connection comes up, so this never fails while Redis is down;
    /// <see cref="IsReady"/> tells when Redis has confirmed it.
    /// </summary>
    public async Task SubscribeAsync(RedisChannel channel, RedisMessageHandler handler)
    {
        await StartAsync().ConfigureAwait(false);
        var queue = await _subscriber!.SubscribeAsync(channel, CommandFlags.FireAndForget).ConfigureAwait(false);
        if (_subscriptions.TryGetValue(channel, out var previous) && previous != queue)
        {
            // Subscribed twice (a room re-created before its unsubscribe ran): one reader per channel.
            _subscriptions[channel] = queue;
            await previous.UnsubscribeAsync(CommandFlags.FireAndForget).ConfigureAwait(false);
        }
        _subscriptions[channel] = queue;
        _ = ReadAsync(queue, handler);
    }

    public async Task UnsubscribeAsync(RedisChannel channel)
    {
        if (_subscriptions.TryRemove(channel, out var queue))
        {
            await queue.UnsubscribeAsync(CommandFlags.FireAndForget).ConfigureAwait(false);
        }
    }

    /// <summary>One reader per channel, so its messages reach the inbox in the order Redis sent them.</summary>
    private async Task ReadAsync(ChannelMessageQueue queue, RedisMessageHandler handler)
    {
        try
        {
            await foreach (var item in queue.ConfigureAwait(false))
            {
                var message = new RedisMessage((string)item.Channel!, (ReadOnlyMemory<byte>)item.Message);
                Metrics.Received(message.Payload.Length);
                try
                {
                    handler(in message);
                }
                catch (Exception e)
                {
                    RedisLog.HandlerFailed(_logger, message.Channel, e);
                }
            }
        }
        catch (Exception e) when (e is ChannelClosedException or OperationCanceledException)
        {
            // Unsubscribed or shut down.
        }
    }

    // ---- publishing: fire and forget, failures logged ----

    /// <summary>
    /// PUBLISH (SPUBLISH for a sharded channel), pipelined: the task fails when Redis refuses it or is down (which
    /// fails fast). A failure is counted and logged here, with the endpoint, at most once a second; the caller only
    /// learns of it (a request then stops waiting for answers that cannot come).
    /// </summary>
    public Task PublishAsync(RedisChannel channel, ReadOnlyMemory<byte> message)
    {
        Metrics.Published();
        Task<long> task;
        var subscriber = _subscriber;
        try
        {
            task = subscriber is null
                ? Task.FromException<long>(new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "not connected yet"))
                : subscriber.PublishAsync(channel, message);
        }
        catch (Exception e)
        {
            task = Task.FromException<long>(e);
        }
        // The state is the channel alone: no allocation beyond the continuation, and none at all when it completed.
        return task.IsCompletedSuccessfully
            ? Task.CompletedTask
            : task.ContinueWith(_onPublished, channel, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void OnPublished(Task<long> task, object? state)
    {
        if (!task.IsFaulted)
        {
            return;
        }
        Metrics.PublishFailed();
        var channel = (RedisChannel)state!;
        if (channel.IsSharded)
        {
            // Only the shard's primary takes an SPUBLISH; a classic PUBLISH goes through any node of a cluster, so its
            // failure says nothing about the topology (and re-reading it then moves publishes between nodes for
            // nothing, where one sent over the cluster bus can arrive after a later one sent directly).
            Volatile.Write(ref _publishFailed, 1);
        }
        var exception = task.Exception!.InnerException ?? task.Exception;
        if (_publishFailures.Tick(out var failed))
        {
            RedisLog.PublishFailed(_logger, channel.ToString(), Endpoint, failed, exception);
        }
        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(exception);
    }

    // ---- server count ----

    /// <summary>
    /// Subscribers of <paramref name="channel"/> across the deployment, as upstream counts them: <c>PUBSUB NUMSUB</c>
    /// (classic) or <c>PUBSUB SHARDNUMSUB</c> (sharded, primaries only) on every connected server, summed. One server
    /// outside a cluster; on a Redis Cluster each node counts its own subscribers.
    /// </summary>
    public async Task<long> CountSubscribersAsync(string channel, bool sharded)
    {
        var multiplexer = _current ?? throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "not connected yet");
        var counts = new List<Task<RedisResult>>();
        foreach (var server in multiplexer.GetServers())
        {
            if (server.IsConnected && !(sharded && server.IsReplica) && server.ServerType != ServerType.Sentinel)
            {
                counts.Add(server.ExecuteAsync("PUBSUB", sharded ? "SHARDNUMSUB" : "NUMSUB", channel));
            }
        }
        long total = 0;
        foreach (var result in await Task.WhenAll(counts).ConfigureAwait(false))
        {
            // [channel, count] (a map under RESP3, read the same way).
            if (result.Length >= 2)
            {
                total += (long)result[1];
            }
        }
        return total;
    }

    /// <summary>The channels and patterns subscribed now (tests).</summary>
    public IEnumerable<string> Channels => _subscriptions.Keys.Select(static c => c.ToString());

    /// <summary>Outstanding commands on every connection (tests: the queue stays bounded while Redis is down).</summary>
    public long Outstanding => _current?.GetCounters().TotalOutstanding ?? 0;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        Metrics.Forget(this);
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var channel in _subscriptions.Keys)
        {
            await UnsubscribeAsync(channel).ConfigureAwait(false);
        }
        if (_current is { } multiplexer)
        {
            multiplexer.ConnectionFailed -= OnConnectionFailed;
            multiplexer.ConnectionRestored -= OnConnectionRestored;
            if (_configuration is not null)
            {
                await DisposeMultiplexerAsync(multiplexer).ConfigureAwait(false);
            }
        }
        _multiplexer.TrySetException(new ObjectDisposedException(nameof(RedisConnections)));
    }

    private static async Task DisposeMultiplexerAsync(IConnectionMultiplexer multiplexer)
    {
        await multiplexer.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
        await multiplexer.DisposeAsync().ConfigureAwait(false);
    }
}

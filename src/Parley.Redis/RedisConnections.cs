using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Parley.Resp;

namespace Parley.Redis;

/// <summary>
/// The two Redis connections one Parley server shares between all its namespaces' adapters, as upstream shares
/// one <c>pubClient</c> and one <c>subClient</c>: a pipelined command connection for PUBLISH/SPUBLISH and PUBSUB, and a
/// subscriber whose messages are routed to the adapter that subscribed the channel or pattern.
/// <para>
/// Publishing never waits for Redis on the caller's path: commands are queued on the pipelined connection and fail
/// fast while it is down (RespClientBase refuses instead of queueing); failures are counted and logged at most once
/// a second so an outage under traffic does not flood the log.
/// </para>
/// </summary>
internal sealed class RedisConnections : IAsyncDisposable
{
    private readonly RespConnection _commands;
    private readonly RespSubscriber _subscriber;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, RespMessageHandler> _channels = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RespMessageHandler> _patterns = new(StringComparer.Ordinal);
    private readonly Action<Task<RespValue>, object?> _onPublished;
    private readonly LogThrottle _publishFailures = new();
    private readonly LogThrottle _pendingSubscriptions = new();
    private readonly Lock _initLock = new();
    private int _initializing;
    // Completed when the last adapter that began initialising ends; null while none is.
    private TaskCompletionSource? _initialized;

    public RedisConnections(RespConnectionOptions options, ILoggerFactory loggerFactory)
    {
        _logger = loggerFactory.CreateLogger("Parley.Redis");
        _commands = new RespConnection(options, loggerFactory.CreateLogger<RespConnection>());
        _subscriber = new RespSubscriber(options, OnMessage, loggerFactory.CreateLogger<RespSubscriber>());
        Endpoint = options.ToString();
        _commands.Connected += () => RedisLog.Connected(_logger, "command", Endpoint);
        _subscriber.Connected += () => RedisLog.Connected(_logger, "subscriber", Endpoint);
        _commands.Disconnected += e => RedisLog.Disconnected(_logger, "command", Endpoint, e);
        _subscriber.Disconnected += e => RedisLog.Disconnected(_logger, "subscriber", Endpoint, e);
        _onPublished = OnPublished;
    }

    public string Endpoint { get; }

    public RespConnection Commands => _commands;

    public RespSubscriber Subscriber => _subscriber;

    public ILogger Logger => _logger;

    internal RedisMetrics Metrics { get; init; } = RedisMetrics.Shared;

    /// <summary>
    /// Starts both connections. When Redis is not reachable yet each keeps trying in the background (logged by
    /// Parley.Resp); the subscriber restores whatever was subscribed meanwhile on its first connect.
    /// </summary>
    public Task StartAsync() => Task.WhenAll(_commands.StartConnecting(), _subscriber.StartConnecting());

    /// <summary>
    /// Both connections are up (the subscriber with its subscriptions restored) and every adapter started so far
    /// has had its subscriptions confirmed: a broadcast published now reaches every subscribed node.
    /// </summary>
    public bool IsReady => _commands.IsConnected && _subscriber.IsConnected && Volatile.Read(ref _initializing) == 0;

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
    /// Completes once both connections have come up (each waits for its Connected, no polling); an adapter's start-up
    /// waits for this after subscribing.
    /// </summary>
    public Task WaitUntilConnectedAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_commands.WaitForConnectedAsync(cancellationToken), _subscriber.WaitForConnectedAsync(cancellationToken));

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

    // ---- subscriptions, routed by exact channel (SUBSCRIBE / SSUBSCRIBE) or by pattern (PSUBSCRIBE) ----

    public Task SubscribeAsync(string channel, RespMessageHandler handler)
    {
        _channels[channel] = handler;
        return Quietly(_subscriber.SubscribeAsync(channel), channel);
    }

    public Task PSubscribeAsync(string pattern, RespMessageHandler handler)
    {
        _patterns[pattern] = handler;
        return Quietly(_subscriber.PSubscribeAsync(pattern), pattern);
    }

    public Task SSubscribeAsync(string channel, RespMessageHandler handler)
    {
        _channels[channel] = handler;
        return Quietly(_subscriber.SSubscribeAsync(channel), channel);
    }

    public Task UnsubscribeAsync(string channel)
    {
        _channels.TryRemove(channel, out _);
        return Quietly(_subscriber.UnsubscribeAsync(channel), channel);
    }

    public Task PUnsubscribeAsync(string pattern)
    {
        _patterns.TryRemove(pattern, out _);
        return Quietly(_subscriber.PUnsubscribeAsync(pattern), pattern);
    }

    public Task SUnsubscribeAsync(string channel)
    {
        _channels.TryRemove(channel, out _);
        return Quietly(_subscriber.SUnsubscribeAsync(channel), channel);
    }

    /// <summary>A (un)subscribe that fails because Redis is down is remembered by the subscriber and made on reconnect.</summary>
    private async Task Quietly(Task task, string channel)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (RespException e) when (_pendingSubscriptions.Tick(out var count))
        {
            RedisLog.SubscribePending(_logger, channel, count, e);
        }
        catch (RespException)
        {
            // Counted in the next line of the throttle above.
        }
    }

    private void OnMessage(in RespMessage message)
    {
        Metrics.Received(message.Payload.Length);
        var handlers = message.Kind == RespMessageKind.PatternMessage ? _patterns : _channels;
        var key = message.Kind == RespMessageKind.PatternMessage ? message.Pattern! : message.Channel;
        if (!handlers.TryGetValue(key, out var handler))
        {
            return;
        }
        try
        {
            handler(in message);
        }
        catch (Exception e)
        {
            RedisLog.HandlerFailed(_logger, message.Channel, e);
        }
    }

    // ---- publishing: fire and forget, failures logged ----

    /// <summary>
    /// PUBLISH without waiting: the command is pipelined; a failure (Redis down, queue full) is logged, not thrown,
    /// and reported to <paramref name="onFailed"/> (a request then stops waiting for answers that cannot come).
    /// </summary>
    public void Publish(string channel, ReadOnlyMemory<byte> message, Action? onFailed = null) =>
        Observe(_commands.ExecuteAsync("PUBLISH", channel, message), channel, onFailed);

    /// <summary>SPUBLISH without waiting, as <see cref="Publish"/>.</summary>
    public void SPublish(string channel, ReadOnlyMemory<byte> message, Action? onFailed = null) =>
        Observe(_commands.ExecuteAsync("SPUBLISH", channel, message), channel, onFailed);

    private void Observe(Task<RespValue> task, string channel, Action? onFailed)
    {
        Metrics.Published();
        if (task.IsCompletedSuccessfully)
        {
            return;
        }
        // The state is the channel alone for broadcasts (no allocation beyond the continuation); requests add their callback.
        object state = onFailed is null ? channel : (channel, onFailed);
        task.ContinueWith(_onPublished, state, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void OnPublished(Task<RespValue> task, object? state)
    {
        if (!task.IsFaulted)
        {
            return;
        }
        var (channel, onFailed) = state is string c ? (c, null) : ((string, Action?))state!;
        onFailed?.Invoke();
        Metrics.PublishFailed();
        if (_publishFailures.Tick(out var failed))
        {
            RedisLog.PublishFailed(_logger, channel, Endpoint, failed, task.Exception!.InnerException ?? task.Exception);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Disposing a client also ends its first-connection loop.
        Metrics.Forget(this);
        await _subscriber.DisposeAsync().ConfigureAwait(false);
        await _commands.DisposeAsync().ConfigureAwait(false);
    }
}

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
    private long _failedPublishes;
    private long _lastFailureLog;

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

    /// <summary>
    /// Starts both connections. When Redis is not reachable yet each keeps trying in the background (logged by
    /// Parley.Resp); the subscriber restores whatever was subscribed meanwhile on its first connect.
    /// </summary>
    public Task StartAsync() => Task.WhenAll(_commands.StartConnecting(), _subscriber.StartConnecting());

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
        catch (RespException e)
        {
            RedisLog.SubscribePending(_logger, channel, e);
        }
    }

    private void OnMessage(in RespMessage message)
    {
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

    /// <summary>PUBLISH without waiting: the command is pipelined; a failure (Redis down) is logged, not thrown.</summary>
    public void Publish(string channel, ReadOnlyMemory<byte> message) =>
        Observe(_commands.ExecuteAsync("PUBLISH", channel, message), channel);

    /// <summary>SPUBLISH without waiting, as <see cref="Publish"/>.</summary>
    public void SPublish(string channel, ReadOnlyMemory<byte> message) =>
        Observe(_commands.ExecuteAsync("SPUBLISH", channel, message), channel);

    private void Observe(Task<RespValue> task, string channel)
    {
        if (task.IsCompletedSuccessfully)
        {
            return;
        }
        task.ContinueWith(_onPublished, channel, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void OnPublished(Task<RespValue> task, object? state)
    {
        if (!task.IsFaulted)
        {
            return;
        }
        var failed = Interlocked.Increment(ref _failedPublishes);
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastFailureLog);
        if (now - last >= 1000 && Interlocked.CompareExchange(ref _lastFailureLog, now, last) == last)
        {
            Interlocked.Exchange(ref _failedPublishes, 0);
            RedisLog.PublishFailed(_logger, (string)state!, failed, task.Exception!.InnerException ?? task.Exception);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Disposing a client also ends its first-connection loop.
        await _subscriber.DisposeAsync().ConfigureAwait(false);
        await _commands.DisposeAsync().ConfigureAwait(false);
    }
}

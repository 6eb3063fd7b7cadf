using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Parley.Redis;

/// <summary>
/// Takes a namespace's incoming Redis messages off the subscriber's read loop and runs them one at a time, in
/// arrival order, on a worker of their own. The read loop serves every namespace and every connection state
/// change (PING replies included): handler code on it — a slow room lookup, a server-side event handler that
/// blocks — would stall all Redis reads and, past the command timeout, get the subscriber dropped as hung.
/// <para>
/// One queue per namespace, not per channel: a classic node's REMOTE_JOIN (request channel) followed by a
/// broadcast to that room (broadcast channel) must be applied in that order, as Redis delivered them.
/// The queue is bounded by <see cref="RedisAdapterOptions.MaxQueuedMessages"/>: when deliveries fall that far
/// behind, newer messages are dropped and counted in a rate-limited error, instead of memory growing unbounded.
/// </para>
/// </summary>
internal sealed class RedisInbox : IAsyncDisposable
{
    private readonly Channel<Work> _queue;
    private readonly ILogger _logger;
    private readonly string _name;
    private readonly Task _worker;
    private readonly LogThrottle _drops = new();

    public RedisInbox(int capacity, ILogger logger, string name)
    {
        _queue = Channel.CreateBounded<Work>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full; nothing ever waits
        });
        _logger = logger;
        _name = name;
        _worker = Task.Run(RunAsync);
    }

    /// <summary>Queues a subscriber message for <paramref name="handler"/>: the payload is the message's own array, safe to keep.</summary>
    public void Post(RedisMessageHandler handler, in RedisMessage message) => Post(new Work(handler, message, null));

    /// <summary>Queues other work in the same order (used for server-side events in their own inbox).</summary>
    public void Post(Action action) => Post(new Work(null, default, action));

    private void Post(Work work)
    {
        if (_queue.Writer.TryWrite(work))
        {
            return;
        }
        if (_drops.Tick(out var dropped))
        {
            RedisLog.InboxFull(_logger, _name, dropped);
        }
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var work))
            {
                try
                {
                    if (work.Handler is not null)
                    {
                        var message = work.Message;
                        work.Handler(in message);
                    }
                    else
                    {
                        work.Action!();
                    }
                }
                catch (Exception e)
                {
                    RedisLog.HandlerFailed(_logger, work.Handler is null ? _name : work.Message.Channel, e);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _worker.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private readonly record struct Work(RedisMessageHandler? Handler, RedisMessage Message, Action? Action);
}

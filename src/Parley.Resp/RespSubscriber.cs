using System.Text;
using Microsoft.Extensions.Logging;

namespace Parley.Resp;

/// <summary>
/// The pub/sub connection: SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE and their unsubscribes, messages delivered to one
/// <see cref="RespMessageHandler"/>. It remembers what it is subscribed to and subscribes again after every
/// reconnect, before it raises <see cref="RespClientBase.Connected"/>.
/// <para>
/// A subscribe while disconnected is remembered (it will be made on reconnect) but still fails with
/// <see cref="RespConnectionException"/>, so the caller knows it is not active yet. SSUBSCRIBE is sent one channel
/// per command, because in a cluster all channels of one SSUBSCRIBE must hash to the same slot.
/// </para>
/// </summary>
internal sealed class RespSubscriber : RespClientBase
{
    private static ReadOnlySpan<byte> MessageKind => "message"u8;
    private static ReadOnlySpan<byte> PMessageKind => "pmessage"u8;
    private static ReadOnlySpan<byte> SMessageKind => "smessage"u8;

    private readonly RespMessageHandler _handler;
    private readonly Lock _sync = new();
    private readonly HashSet<string> _channels = new(StringComparer.Ordinal);
    private readonly HashSet<string> _patterns = new(StringComparer.Ordinal);
    private readonly HashSet<string> _shardChannels = new(StringComparer.Ordinal);
    private readonly Func<RespValue, bool> _push;

    public RespSubscriber(RespConnectionOptions options, RespMessageHandler handler, ILogger<RespSubscriber>? logger = null, TimeProvider? timeProvider = null)
        : base(options, logger, timeProvider, "subscriber")
    {
        ArgumentNullException.ThrowIfNull(handler);
        _handler = handler;
        _push = OnPush;
    }

    protected override Func<RespValue, bool>? PushHandler => _push;

    public Task SubscribeAsync(params string[] channels) => ChangeAsync("SUBSCRIBE", _channels, channels, add: true);

    public Task PSubscribeAsync(params string[] patterns) => ChangeAsync("PSUBSCRIBE", _patterns, patterns, add: true);

    public Task SSubscribeAsync(params string[] channels) => ChangeAsync("SSUBSCRIBE", _shardChannels, channels, add: true);

    public Task UnsubscribeAsync(params string[] channels) => ChangeAsync("UNSUBSCRIBE", _channels, channels, add: false);

    public Task PUnsubscribeAsync(params string[] patterns) => ChangeAsync("PUNSUBSCRIBE", _patterns, patterns, add: false);

    public Task SUnsubscribeAsync(params string[] channels) => ChangeAsync("SUNSUBSCRIBE", _shardChannels, channels, add: false);

    /// <summary>What will be restored on reconnect (for tests and diagnostics).</summary>
    public (string[] Channels, string[] Patterns, string[] ShardChannels) Subscriptions
    {
        get
        {
            lock (_sync)
            {
                return ([.. _channels], [.. _patterns], [.. _shardChannels]);
            }
        }
    }

    /// <summary>PING on the subscriber (answered as <c>["pong", ""]</c> in subscribe mode): proves it is alive.</summary>
    public async Task PingAsync()
    {
        var request = NewRequest("PING");
        RespWriter.WriteCommand(request, "PING", []);
        await Send(Session, request).ConfigureAwait(false);
    }

    /// <summary>
    /// Updates the remembered set and queues the command under one lock, so the order in which callers change a
    /// channel is the order Redis sees (queueing never blocks). Sending outside the lock let a SUBSCRIBE overtake the
    /// UNSUBSCRIBE before it: remembered as unsubscribed, subscribed on the server, or the reverse.
    /// </summary>
    private Task ChangeAsync(string command, HashSet<string> set, string[] names, bool add)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (names.Length == 0)
        {
            // An UNSUBSCRIBE with no channel means "all" to Redis; never send it by accident.
            return Task.CompletedTask;
        }
        lock (_sync)
        {
            foreach (var name in names)
            {
                if (add)
                {
                    set.Add(name);
                }
                else
                {
                    set.Remove(name);
                }
            }
            var session = Session;
            if (session is null)
            {
                // Nothing to undo on a server we are not connected to; the next session will not have it. A
                // subscribe is remembered and made on connect, but the caller learns it is not active yet.
                return add ? Task.FromException(NotConnected()) : Task.CompletedTask;
            }
            return SendSubscriptionAsync(session, command, names);
        }
    }

    private Task SendSubscriptionAsync(RespSession session, string command, IReadOnlyList<string> names)
    {
        if (command[0] == 'S' && command != "SUBSCRIBE")
        {
            var tasks = new Task[names.Count];
            for (var i = 0; i < names.Count; i++)
            {
                tasks[i] = SendOne(session, command, [names[i]]);
            }
            return Task.WhenAll(tasks);
        }
        return SendOne(session, command, names);
    }

    private Task SendOne(RespSession session, string command, IReadOnlyList<string> names)
    {
        // Redis confirms a (un)subscribe with one reply per channel.
        var request = NewRequest(command, names.Count);
        var args = new RespArg[names.Count];
        for (var i = 0; i < args.Length; i++)
        {
            args[i] = names[i];
        }
        RespWriter.WriteCommand(request, command, args);
        return Send(session, request);
    }

    /// <summary>
    /// Publishes the session, takes the snapshot and queues its restore under the same lock as
    /// <see cref="ChangeAsync"/>: a change racing with the reconnect is either in the snapshot or queued after the
    /// restore on the new session, never before it (an UNSUBSCRIBE overtaken by the restore's SUBSCRIBE would leave
    /// a channel subscribed that nobody remembers).
    /// </summary>
    protected override async Task ActivateAsync(RespSession session, CancellationToken cancellationToken)
    {
        var restores = new List<Task>(3);
        int count;
        lock (_sync)
        {
            Publish(session);
            count = _channels.Count + _patterns.Count + _shardChannels.Count;
            if (_channels.Count > 0)
            {
                restores.Add(SendSubscriptionAsync(session, "SUBSCRIBE", [.. _channels]));
            }
            if (_patterns.Count > 0)
            {
                restores.Add(SendSubscriptionAsync(session, "PSUBSCRIBE", [.. _patterns]));
            }
            if (_shardChannels.Count > 0)
            {
                restores.Add(SendSubscriptionAsync(session, "SSUBSCRIBE", [.. _shardChannels]));
            }
        }
        if (restores.Count > 0)
        {
            await Task.WhenAll(restores).WaitAsync(cancellationToken).ConfigureAwait(false);
            Logger.Resubscribed(count, Endpoint);
        }
    }

    /// <summary>Claims <c>message</c>, <c>pmessage</c> and <c>smessage</c> frames; everything else is a reply.</summary>
    private bool OnPush(RespValue value)
    {
        if (value.Type is not (RespType.Array or RespType.Push) || value.Count is not (3 or 4))
        {
            return false;
        }
        var kind = value[0].Span;
        RespMessage message;
        if (value.Count == 3 && kind.SequenceEqual(MessageKind))
        {
            message = new RespMessage(RespMessageKind.Message, Text(value[1]), null, value[2].Bytes);
        }
        else if (value.Count == 3 && kind.SequenceEqual(SMessageKind))
        {
            message = new RespMessage(RespMessageKind.ShardMessage, Text(value[1]), null, value[2].Bytes);
        }
        else if (value.Count == 4 && kind.SequenceEqual(PMessageKind))
        {
            message = new RespMessage(RespMessageKind.PatternMessage, Text(value[2]), Text(value[1]), value[3].Bytes);
        }
        else
        {
            return false;
        }
        try
        {
            _handler(in message);
        }
        catch (Exception e)
        {
            Logger.HandlerFailed(message.Channel, e);
        }
        return true;
    }

    private static string Text(RespValue value) => Encoding.UTF8.GetString(value.Span);
}

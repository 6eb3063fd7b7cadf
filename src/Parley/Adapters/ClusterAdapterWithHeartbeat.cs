using System.Collections.Concurrent;

namespace Parley.Adapters;

/// <summary>
/// A <see cref="ClusterAdapter"/> that counts the nodes by their messages: socket.io-adapter's
/// <c>ClusterAdapterWithHeartbeat</c> (cluster-adapter.ts). On <see cref="InitAsync"/> it publishes
/// INITIAL_HEARTBEAT, to which every other node answers HEARTBEAT; it publishes HEARTBEAT itself when it has sent
/// nothing for <see cref="ClusterAdapterOptions.HeartbeatInterval"/>, and forgets a node silent for
/// <see cref="ClusterAdapterOptions.HeartbeatTimeout"/> or that sent ADAPTER_CLOSE. Requests wait for exactly the
/// nodes it knows, so a transport needs no way to count subscribers: it implements the two publishes and calls
/// <see cref="ClusterAdapter.OnMessage"/>, and calls <c>base.InitAsync()</c> once it receives messages.
/// </summary>
public abstract class ClusterAdapterWithHeartbeat : ClusterAdapter
{
    // cluster-adapter.ts EMITTER_UID: the emitter package publishes with it, and is not a node.
    private const string EmitterUid = "emitter";
    private static readonly TimeSpan s_tick = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, long> _nodes = new(StringComparer.Ordinal);
    private long _lastPublished;
    private int _started;
    private Task? _timers;

    /// <summary>Creates the adapter of <paramref name="namespace"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    protected ClusterAdapterWithHeartbeat(Namespace @namespace, ClusterAdapterOptions? options = null)
        : base(@namespace, options)
    {
    }

    /// <summary>The other nodes seen within the heartbeat timeout (a snapshot of their uids).</summary>
    public IReadOnlyCollection<string> Nodes => [.. _nodes.Keys];

    private protected override IReadOnlyCollection<string>? KnownNodes => Nodes;

    /// <summary>This node and the others it has heard from within the heartbeat timeout.</summary>
    public override Task<int> ServerCountAsync() => Task.FromResult(1 + _nodes.Count);

    /// <summary>
    /// Announces this node (INITIAL_HEARTBEAT) and starts the heartbeat and clean-up timers. A transport calls it
    /// after its own start-up, once messages reach <see cref="ClusterAdapter.OnMessage"/>. Once per adapter.
    /// </summary>
    public override Task InitAsync()
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            Publish(Message(ClusterMessageType.InitialHeartbeat));
            _timers = RunTimersAsync();
        }
        return Task.CompletedTask;
    }

    private async Task RunTimersAsync()
    {
        var time = Namespace.Server.Time;
        try
        {
            while (!Disposing.IsCancellationRequested)
            {
                await Task.Delay(s_tick, time, Disposing).ConfigureAwait(false);
                var now = time.GetTimestamp();
                foreach (var (uid, seen) in _nodes)
                {
                    if (time.GetElapsedTime(seen, now) > Options.HeartbeatTimeout)
                    {
                        RemoveNode(uid);
                    }
                }
                if (time.GetElapsedTime(Interlocked.Read(ref _lastPublished), now) >= Options.HeartbeatInterval)
                {
                    Publish(Message(ClusterMessageType.Heartbeat));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private protected override void OnPublishing() => Interlocked.Exchange(ref _lastPublished, Namespace.Server.Time.GetTimestamp());

    private protected override void OnNodeMessage(ClusterMessage message)
    {
        if (message.Uid != EmitterUid)
        {
            _nodes[message.Uid] = Namespace.Server.Time.GetTimestamp();
        }
        switch (message.Type)
        {
            case ClusterMessageType.InitialHeartbeat:
                Publish(Message(ClusterMessageType.Heartbeat));
                break;
            case ClusterMessageType.AdapterClose:
                RemoveNode(message.Uid);
                break;
        }
    }

    private void RemoveNode(string uid)
    {
        _nodes.TryRemove(uid, out _);
        ForgetNode(uid);
    }

    /// <summary>Tells the other nodes this one is gone (ADAPTER_CLOSE, waited for at most a second), then stops.</summary>
    public override async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _started) == 1 && !Disposing.IsCancellationRequested)
        {
            Task closing = PublishAndLogAsync(Message(ClusterMessageType.AdapterClose));
            await closing.WaitAsync(s_tick).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        await base.DisposeAsync().ConfigureAwait(false);
        if (_timers is not null)
        {
            await _timers.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}

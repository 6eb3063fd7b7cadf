using Microsoft.Extensions.Logging;
using Parley.Adapters;
using StackExchange.Redis;

namespace Parley.Redis;

/// <summary>
/// The Redis Streams adapter, wire-compatible with <c>@socket.io/redis-streams-adapter</c> 0.3.x (lib/adapter.ts), on
/// the public <see cref="ClusterAdapter"/> contract: this class is only the transport.
/// <list type="bullet">
/// <item>What must not be lost — broadcasts without acks, socketsJoin/Leave, disconnectSockets — is appended to one
/// stream (<c>XADD stream MAXLEN ~ n *</c>, fields uid/nsp/type/data) and read by every node
/// (<see cref="RedisStreamReader"/>). The entry id is the offset of connection state recovery.</item>
/// <item>Requests that wait for answers (broadcasts with acks, fetchSockets, serverSideEmit) go over pub/sub on
/// <c>{prefix}#{nsp}#</c>, and answers to the requester's <c>{prefix}#{nsp}#{uid}#</c>, as msgpack (upstream's
/// <c>isEphemeral</c>, <c>doPublishResponse</c>).</item>
/// <item>The server count is the number of subscribers of <c>{prefix}#{nsp}#</c> (<c>PUBSUB NUMSUB</c>), as upstream
/// 0.3.x counts them: Node and .NET nodes count each other.</item>
/// </list>
/// Incoming messages of both kinds are queued on the namespace's inbox and handled in order, off the read loops.
/// </summary>
internal sealed class RedisStreamsAdapter : ClusterAdapter
{
    private static readonly Task<int> s_alone = Task.FromResult(1);

    private readonly RedisConnections _connections;
    private readonly RedisStreamReader _reader;
    private readonly RedisStreamsAdapterOptions _options;
    private readonly RedisKey _stream;
    private readonly RedisChannel _publicChannel;
    private readonly RedisChannel _privateChannel;
    private readonly string _channelPrefix;
    private readonly RedisMessageHandler _onPubSub;
    private readonly ILogger _logger;
    // Sessions being written: a server that shuts down persists its sockets' sessions, then disposes its adapters,
    // which wait for those writes (briefly) so a client can recover on another node.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Task, byte> _persisting = new();
    private readonly Lock _readBackLock = new();
    // Own entries published before the reader knew where it starts, delivered at once (ReadsBack): a few, at start-up.
    private HashSet<string>? _deliveredBeforeStart;
    private RedisInbox? _inbox;
    private int _initialized;
    private int _disposed;

    public RedisStreamsAdapter(Namespace @namespace, RedisConnections connections, RedisStreamReader reader, RedisStreamsAdapterOptions options)
        : base(@namespace, new ClusterAdapterOptions { RequestsTimeout = options.RequestsTimeout })
    {
        _connections = connections;
        _reader = reader;
        _options = options;
        _logger = connections.Logger;
        _stream = options.StreamName;
        _channelPrefix = options.ChannelPrefix + "#" + @namespace.Name + "#";
        _publicChannel = Routed(_channelPrefix);
        _privateChannel = Routed(_channelPrefix + Uid + "#");
        _onPubSub = OnPubSubMessage;
    }

    /// <summary>Routed by hash slot on a Redis Cluster, as the classic adapter's channels (one node publishes a channel's messages, in order).</summary>
    private static RedisChannel Routed(string channel) => RedisChannel.Literal(channel).WithKeyRouting();

    /// <summary>
    /// Subscribes both channels, joins the stream reader, and counts as initialising until Redis is connected, the
    /// subscriptions are confirmed and the reader knows where the stream ends (<see cref="RedisAdapterStatus"/>).
    /// </summary>
    public override Task InitAsync() => Interlocked.Exchange(ref _initialized, 1) == 0 ? InitOnceAsync() : Task.CompletedTask;

    private async Task InitOnceAsync()
    {
        _connections.BeginInit();
        try
        {
            _inbox = new RedisInbox(_options.MaxQueuedMessages, _logger, Namespace.Name);
            StreamsLog.AdapterStarted(_logger, Uid, Namespace.Name, _options.StreamName);
            _ = _connections.StartAsync();
            _reader.Register(this);
            await Task.WhenAll(
                _connections.SubscribeAsync(_publicChannel, _onPubSub),
                _connections.SubscribeAsync(_privateChannel, _onPubSub)).ConfigureAwait(false);
            await _connections.WaitUntilConnectedAsync(Disposing).ConfigureAwait(false);
            await _reader.WaitPositionedAsync(Disposing).ConfigureAwait(false);
            RedisLog.AdapterReady(_logger, Namespace.Name);
        }
        catch (OperationCanceledException) when (Disposing.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException)
        {
            // Shutting down while it waited.
        }
        finally
        {
            _connections.EndInit();
        }
    }

    /// <summary>Upstream's <c>isEphemeral</c>: broadcasts with acks, server-side events and fetches are not kept in the stream.</summary>
    private static bool IsEphemeral(ClusterMessage message) =>
        message.Type is ClusterMessageType.ServerSideEmit or ClusterMessageType.FetchSockets ||
        (message.Type == ClusterMessageType.Broadcast && message.RequestId is not null);

    /// <summary>XADD (the entry id is the offset), or PUBLISH for an ephemeral message (offset "", as upstream).</summary>
    protected override async Task<string?> PublishAsync(ClusterMessage message)
    {
        var multiplexer = _connections.Multiplexer ?? throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "not connected yet");
        _connections.Metrics.Published();
        if (IsEphemeral(message))
        {
            await multiplexer.GetSubscriber().PublishAsync(_publicChannel, StreamsWire.EncodePubSub(message)).ConfigureAwait(false);
            return "";
        }
        var id = await multiplexer.GetDatabase().StreamAddAsync(_stream, StreamsWire.EncodeEntry(message, _options.OnlyPlaintext),
            maxLength: _options.MaxLength, useApproximateMaxLength: true).ConfigureAwait(false);
        return id.ToString();
    }

    /// <summary>PUBLISH to the requester's own channel <c>{prefix}#{nsp}#{uid}#</c>.</summary>
    protected override async Task PublishResponseAsync(string requesterUid, ClusterMessage response)
    {
        var multiplexer = _connections.Multiplexer ?? throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "not connected yet");
        _connections.Metrics.Published();
        await multiplexer.GetSubscriber().PublishAsync(Routed(_channelPrefix + requesterUid + "#"), StreamsWire.EncodePubSub(response)).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>PUBSUB NUMSUB {prefix}#{nsp}#</c> summed over the servers (upstream <c>serverCount</c>); 1 while Redis is
    /// known to be down, so the node acts alone instead of waiting for answers that cannot come.
    /// </summary>
    public override async Task<int> ServerCountAsync()
    {
        if (!_connections.IsConnected)
        {
            return await s_alone.ConfigureAwait(false);
        }
        try
        {
            return (int)Math.Max(1, await _connections.CountSubscribersAsync(_channelPrefix, sharded: false).ConfigureAwait(false));
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            RedisLog.ServerCountFailed(_logger, Namespace.Name, e);
            return 1;
        }
    }

    /// <summary>
    /// The reader reads this node's entries too, in stream order, after the stream's last entry when it started: an
    /// entry after that comes back. Until the reader knows that position (start-up), a published entry may land on
    /// either side of it; it is delivered at once, and remembered so that it is not delivered again if it comes back
    /// (the reader reads nothing before it knows its position, so it comes back after this answer).
    /// </summary>
    protected override bool ReadsBack(string offset)
    {
        lock (_readBackLock)
        {
            if (_reader.StartId is not { } start)
            {
                (_deliveredBeforeStart ??= new HashSet<string>(StringComparer.Ordinal)).Add(offset);
                return false;
            }
            return CompareOffsets(offset, start) > 0 && !(_deliveredBeforeStart?.Remove(offset) ?? false);
        }
    }

    // ---- connection state recovery (upstream persistSession / restoreSession) ----

    // upstream RESTORE_SESSION_MAX_XRANGE_CALLS; each call here reads at most RestoreBatch entries.
    private const int MaxRestoreCalls = 100;
    private const int RestoreBatch = 1_000;

    /// <summary>
    /// <c>SET {sessionKeyPrefix}{pid} base64(msgpack({sid, pid, rooms, data})) PX maxDisconnectionDuration</c>, as
    /// upstream: a Node node can restore it, and this node restores what a Node node persisted.
    /// </summary>
    public override async Task PersistSessionAsync(PersistedSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (Namespace.Server.Options.ConnectionStateRecovery is not { } recovery)
        {
            return;
        }
        var multiplexer = _connections.Multiplexer ?? throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "not connected yet");
        var value = Convert.ToBase64String(StreamsWire.EncodeSession(session, Namespace.Server.WireOptions));
        Task write = multiplexer.GetDatabase().StringSetAsync(_options.SessionKeyPrefix + session.Pid, value, recovery.MaxDisconnectionDuration);
        _persisting[write] = 0;
        try
        {
            await write.ConfigureAwait(false);
        }
        finally
        {
            _persisting.TryRemove(write, out _);
        }
    }

    /// <summary>
    /// GETDEL the session and check that the offset is still in the stream (both at once, as upstream), then read the
    /// stream after the offset: every BROADCAST entry of this namespace that reaches the session's rooms (and is not
    /// volatile) is a missed packet, its entry id its offset. Null when the offset is not a stream id, the session has
    /// expired or was taken, or the offset was trimmed away: the client then gets a fresh socket.
    /// </summary>
    public override async Task<RestoredSession?> RestoreSessionAsync(string privateSessionId, string offset)
    {
        ArgumentNullException.ThrowIfNull(privateSessionId);
        ArgumentNullException.ThrowIfNull(offset);
        if (!StreamsWire.IsStreamId(offset))
        {
            ReportRecoveryAttempt("unknown_offset");
            return null;
        }
        var multiplexer = _connections.Multiplexer ?? throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "not connected yet");
        var database = multiplexer.GetDatabase();
        var rawSession = database.StringGetDeleteAsync(_options.SessionKeyPrefix + privateSessionId);
        var offsetEntry = database.StreamRangeAsync(_stream, offset, offset, count: 1);
        await Task.WhenAll(rawSession, offsetEntry).ConfigureAwait(false);
        // Redis expires a session by itself (PX): one that is gone is unknown, whether it expired or was taken.
        if (rawSession.Result.IsNullOrEmpty || StreamsWire.DecodeSession(Convert.FromBase64String(rawSession.Result.ToString())) is not { } session)
        {
            ReportRecoveryAttempt("unknown_session");
            return null;
        }
        if (offsetEntry.Result.Length == 0)
        {
            ReportRecoveryAttempt("unknown_offset"); // trimmed away by MAXLEN
            return null;
        }
        var rooms = new HashSet<string>(session.Rooms, StringComparer.Ordinal);
        var missed = new List<BroadcastPacket>();
        var from = offset;
        for (var call = 0; call < MaxRestoreCalls; call++)
        {
            var entries = await database.StreamRangeAsync(_stream, StreamsWire.NextId(from), "+", count: RestoreBatch).ConfigureAwait(false);
            foreach (var entry in entries)
            {
                from = entry.Id.ToString();
                if (StreamsWire.ReadMissedPacket(entry, Namespace.Name, rooms) is { } packet)
                {
                    packet.Offset = from;
                    missed.Add(packet);
                }
            }
            if (entries.Length < RestoreBatch)
            {
                break;
            }
        }
        ReportRecoveryAttempt("recovered");
        return new RestoredSession { Session = session, MissedPackets = missed };
    }

    // ---- receiving ----

    /// <summary>A stream entry of this namespace, from the reader's loop: queued, then decoded and handled in order.</summary>
    internal void OnEntry(string id, string uid, string type, byte[]? data)
    {
        _inbox?.Post(() =>
        {
            ClusterMessage? message;
            try
            {
                message = StreamsWire.DecodeEntry(uid, Namespace.Name, type, data);
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or MessagePack.MessagePackSerializationException or FormatException)
            {
                StreamsLog.MalformedEntry(_logger, id, _options.StreamName, e);
                return;
            }
            if (message is null)
            {
                StreamsLog.MalformedEntry(_logger, id, _options.StreamName, null);
                return;
            }
            OnMessage(message, id);
        });
    }

    private void OnPubSubMessage(in RedisMessage message) => _inbox!.Post(HandlePubSub, in message);

    private void HandlePubSub(in RedisMessage raw)
    {
        ClusterMessage? message;
        try
        {
            message = StreamsWire.DecodePubSub(raw.Payload);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or MessagePack.MessagePackSerializationException or FormatException)
        {
            RedisLog.MalformedMessage(_logger, raw.Channel, e);
            return;
        }
        if (message is not null)
        {
            OnMessage(message);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        _reader.Unregister(this);
        await Task.WhenAll(_persisting.Keys).WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await Task.WhenAll(_connections.UnsubscribeAsync(_publicChannel), _connections.UnsubscribeAsync(_privateChannel))
            .WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await base.DisposeAsync().ConfigureAwait(false);
        if (_inbox is not null)
        {
            await _inbox.DisposeAsync().ConfigureAwait(false);
        }
    }
}

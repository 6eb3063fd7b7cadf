using System.Text.Json;

namespace Parley.Adapters;

// Connection state recovery across nodes: a restore that neither loses nor repeats what this node delivers meanwhile,
// and the log's packets delivered in the log's order (docs/recovery.md, "Exactly once while the cluster keeps talking").
public abstract partial class ClusterAdapter
{
    private readonly Lock _restoreLock = new();
    private readonly Lock _readBackLock = new();
    private string? _readUpTo;
    private List<(string Offset, TaskCompletionSource Done)>? _readBackWaiters;
    private RestoreCapture[] _captures = [];

    /// <summary>
    /// Delivers a broadcast (this node's, or another node's from the transport) to this node's sockets, and to the
    /// captures of the sessions being restored. While any is, the delivery and the captures happen under the restore
    /// lock, which a recovered socket holds while it joins its rooms and gets its replay
    /// (<see cref="AttachRecovered"/>): a packet is then either captured for it or delivered to it in its rooms.
    /// Volatile packets are not kept for recovery and take no lock.
    /// </summary>
    private void Deliver(BroadcastPacket packet, BroadcastOptions options)
    {
        if (options.Flags.Volatile || Volatile.Read(ref _captures).Length == 0)
        {
            // A capture that starts after this read starts after the packet was published (its offset is known by
            // now), so the transport's read of the missed packets, which follows, sees it.
            BroadcastLocal(packet, options);
            return;
        }
        lock (_restoreLock)
        {
            foreach (var capture in _captures)
            {
                capture.Add(packet, options);
            }
            BroadcastLocal(packet, options);
        }
    }

    /// <summary>
    /// Starts capturing this node's deliveries for a session about to be restored. The transport's
    /// <see cref="RestoreSessionAsync"/> reads its log after this: whatever is published after that read is
    /// delivered after this point, so it is captured, or delivered to the socket once it has joined its rooms.
    /// </summary>
    internal override RestoreCapture? BeginRestore()
    {
        if (Namespace.Server.Options.ConnectionStateRecovery is not { } recovery)
        {
            return null;
        }
        var capture = new RestoreCapture(recovery.MaxPackets);
        lock (_restoreLock)
        {
            Volatile.Write(ref _captures, [.. _captures, capture]);
        }
        return capture;
    }

    internal override void EndRestore(RestoreCapture capture)
    {
        lock (_restoreLock)
        {
            EndRestoreLocked(capture);
        }
    }

    private void EndRestoreLocked(RestoreCapture capture)
    {
        if (capture.Ended)
        {
            return;
        }
        capture.Ended = true;
        var captures = _captures;
        var index = Array.IndexOf(captures, capture);
        if (index >= 0)
        {
            Volatile.Write(ref _captures, [.. captures.AsSpan(0, index), .. captures.AsSpan(index + 1)]);
        }
    }

    /// <summary>
    /// Attaches a socket the transport recovered, under the restore lock: it joins its rooms (and its CONNECT ack is
    /// queued), then gets the missed packets the transport read, then the captured packets that reach its rooms and
    /// are after what the replay covered, in the order they were delivered here. Every later delivery finds it in its
    /// rooms. A packet of the log that reaches it both from the read and live (this node read the log later than the
    /// transport's restore did) is sent once: the socket remembers up to which offset its replay went.
    /// </summary>
    internal override bool AttachRecovered(ParleySocket socket, RestoredSession restored, Func<bool> add, out bool incomplete)
    {
        incomplete = false;
        var capture = socket.Capture;
        var missed = restored.MissedPackets;
        var upTo = missed.Count > 0 ? missed[^1].Offset : socket.RestoredOffset;
        // Before the joins: a delivery that does not wait for the lock (it began before the capture) may reach it.
        socket.ReplayedUpTo = upTo;
        lock (_restoreLock)
        {
            try
            {
                if (!add())
                {
                    return false;
                }
                socket.SendReplayed(missed);
                var sent = missed.Count;
                if (capture is { Overflowed: true })
                {
                    incomplete = true;
                    ClusterLog.RestoreCaptureOverflowed(Namespace.Server.Logger, Namespace.Name, socket.Id, capture.Limit);
                }
                else if (capture is not null)
                {
                    var rooms = socket.Rooms;
                    foreach (var (packet, options) in capture.Packets)
                    {
                        if (RecoveryLog.Reaches(options, rooms) && !(packet.Offset is not null && upTo is not null && CompareOffsets(packet.Offset, upTo) <= 0))
                        {
                            socket.SendFrames(packet.GetFrames(options.Flags.Compress));
                            sent++;
                        }
                    }
                }
                SocketLog.SessionRecovered(Namespace.Server.Logger, socket.Id, Namespace.Name, sent);
                return true;
            }
            finally
            {
                if (capture is not null)
                {
                    EndRestoreLocked(capture);
                    socket.Capture = null;
                }
            }
        }
    }

    private protected override bool WasReplayed(ParleySocket socket, BroadcastPacket packet) =>
        CompareOffsets(packet.Offset!, socket.ReplayedUpTo!) <= 0;

    /// <summary>
    /// Orders two offsets of the transport's log (<see cref="PublishAsync"/>'s answers). A transport's offsets must
    /// grow in the order of its log, as the messages it delivers to <see cref="OnMessage"/> do. The default compares
    /// Redis stream ids (<c>ms-seq</c>) and plain integers as numbers, anything else ordinally.
    /// </summary>
    protected virtual int CompareOffsets(string x, string y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (TryParseOffset(x, out var xHigh, out var xLow) && TryParseOffset(y, out var yHigh, out var yLow))
        {
            return xHigh != yHigh ? xHigh.CompareTo(yHigh) : xLow.CompareTo(yLow);
        }
        return string.CompareOrdinal(x, y);
    }

    private static bool TryParseOffset(string offset, out ulong high, out ulong low)
    {
        var dash = offset.IndexOf('-', StringComparison.Ordinal);
        low = 0;
        return dash < 0
            ? ulong.TryParse(offset, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out high)
            : ulong.TryParse(offset.AsSpan(0, dash), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out high) &&
              ulong.TryParse(offset.AsSpan(dash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out low);
    }

    /// <summary>
    /// Whether the transport hands this node's own message published at <paramref name="offset"/> back to
    /// <see cref="OnMessage"/>, in its log's order (a Redis stream that every node reads, this one included, from
    /// where its reader started). The answer must not change for a given offset. For such messages, with connection
    /// state recovery on, this node delivers its own non-volatile broadcasts when they come back rather than right
    /// after publishing them: every socket then gets the log's packets in the log's order, so the last offset a client
    /// holds is the newest packet it has, and a replay from it neither repeats a packet nor skips one. Delivering on
    /// publish sends a local packet ahead of another node's older one that this node has not read yet; a client that
    /// drops between the two comes back with the older offset (and gets the newer packet twice) or with the newer one
    /// (and never gets the older). False by default: the local delivery follows the publish. Called when the publish
    /// returns and again if the message comes back (in either order): both answers must agree.
    /// </summary>
    protected virtual bool ReadsBack(string offset) => false;

    /// <summary>
    /// Completes once the transport has handed back every message up to <paramref name="offset"/> (this node's own
    /// broadcast there is delivered), or after <see cref="ClusterAdapterOptions.RequestsTimeout"/> if its reader is
    /// stuck (the packet is delivered when the reader resumes).
    /// </summary>
    private async Task WaitReadBackAsync(string offset)
    {
        TaskCompletionSource done;
        lock (_readBackLock)
        {
            if (_readUpTo is not null && CompareOffsets(offset, _readUpTo) <= 0)
            {
                return;
            }
            done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            (_readBackWaiters ??= []).Add((offset, done));
        }
        try
        {
            await done.Task.WaitAsync(Options.RequestsTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            lock (_readBackLock)
            {
                _readBackWaiters?.Remove((offset, done));
            }
        }
    }

    /// <summary>The transport handed back the message at <paramref name="offset"/>: releases the broadcasts waiting for it.</summary>
    private void OnReadBack(string offset)
    {
        List<TaskCompletionSource>? released = null;
        lock (_readBackLock)
        {
            _readUpTo = offset;
            if (_readBackWaiters is not { Count: > 0 } waiters)
            {
                return;
            }
            for (var i = waiters.Count - 1; i >= 0; i--)
            {
                if (CompareOffsets(waiters[i].Offset, offset) <= 0)
                {
                    (released ??= []).Add(waiters[i].Done);
                    waiters.RemoveAt(i);
                }
            }
        }
        if (released is not null)
        {
            foreach (var done in released)
            {
                done.TrySetResult();
            }
        }
    }

    /// <summary>
    /// This node's own broadcast, back from the transport's log: delivered now when <see cref="BroadcastAsync"/> left
    /// it to this point (see <see cref="ReadsBack"/>); every other own message was handled when it was sent.
    /// </summary>
    private void OnOwnBroadcast(ClusterMessage message, string offset)
    {
        if (!ReadsBack(offset))
        {
            return;
        }
        try
        {
            if (TryReadBroadcast(message, out var broadcast, out var options, out var requestId) && requestId is null && !options.Flags.Local && KeepsOffset(options))
            {
                OnRemoteBroadcast(broadcast, options, offset);
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or KeyNotFoundException or IndexOutOfRangeException)
        {
            ClusterLog.MalformedMessage(Namespace.Server.Logger, Namespace.Name, message.Uid, message.Type, e);
        }
    }
}

using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Parley.Resp;

/// <summary>
/// One physical connection: a single write loop drains a channel of encoded commands into a <see cref="PipeWriter"/>
/// (flushing once per batch, which is what pipelines them), and a single read loop parses replies and completes the
/// pending commands in FIFO order — Redis answers a connection's commands in the order it received them.
/// A command enters the FIFO and the channel under one short lock, so the FIFO order is the wire order; no lock is
/// held across I/O. When anything goes wrong the session fails as a whole: every pending command gets a
/// <see cref="RespConnectionException"/> at once, and the owner reconnects with a new session.
/// <para>
/// Memory is bounded: past <c>MaxPendingCommands</c> commands awaiting replies or <c>MaxQueuedBytes</c> unsent bytes
/// new commands are refused (<see cref="RespQueueFullException"/>), because a Redis that stopped answering without
/// closing the socket would otherwise make the queue grow until the process dies.
/// </para>
/// </summary>
internal sealed class RespSession
{
    /// <summary>Flush at least this often within a long batch, so one burst does not sit in the pipe unsent.</summary>
    private const int FlushThreshold = 64 * 1024;

    /// <summary>
    /// The oldest command still owed a reply may wait this many command timeouts before the connection is declared
    /// hung even without a PING (PingInterval 0); a timed-out command keeps its FIFO place until its reply comes, so
    /// a server that is only slow for a moment costs the callers a timeout, not the connection.
    /// </summary>
    private const int HungAfterTimeouts = 3;

    private readonly Stream _stream;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    // Unbounded as a channel; bounded by the counts checked in TryEnqueue.
    private readonly Channel<RespRequest> _outgoing = Channel.CreateUnbounded<RespRequest>(new UnboundedChannelOptions { SingleReader = true });
    // The FIFO of commands owed a reply is _expired then _pending: commands whose deadline passed move from the head
    // of _pending to the tail of _expired once, so a sweep never rescans them (deadlines grow with queue order).
    private readonly Queue<RespRequest> _expired = new();
    private readonly Queue<RespRequest> _pending = new();
    private readonly Lock _sync = new();
    private readonly TaskCompletionSource<Exception> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Func<RespValue, bool>? _push;
    private readonly ILogger _logger;
    private readonly string _endpoint;
    private readonly int _maxPending;
    private readonly long _maxQueuedBytes;
    private long _queuedBytes;
    private bool _closed;

    // push: for the subscriber, claims pub/sub messages before FIFO matching; returns true if consumed.
    public RespSession(Stream stream, ILogger logger, string endpoint, Func<RespValue, bool>? push, int maxPending = int.MaxValue, long maxQueuedBytes = long.MaxValue)
    {
        _stream = stream;
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        _writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
        _logger = logger;
        _endpoint = endpoint;
        _push = push;
        _maxPending = maxPending;
        _maxQueuedBytes = maxQueuedBytes;
    }

    /// <summary>Completes with the reason once the session has failed; never faults.</summary>
    public Task<Exception> Completion => _completion.Task;

    public bool IsClosed => Volatile.Read(ref _closed);

    /// <summary>Commands owed a reply, and bytes accepted but not yet flushed to the socket (for tests and diagnostics).</summary>
    public (int Pending, long QueuedBytes) QueueState
    {
        get
        {
            lock (_sync)
            {
                return (_expired.Count + _pending.Count, Interlocked.Read(ref _queuedBytes));
            }
        }
    }

    public void Start()
    {
        _ = Task.Run(WriteLoopAsync);
        _ = Task.Run(ReadLoopAsync);
    }

    /// <summary>
    /// Queues a request. When the result is not <see cref="EnqueueResult.Queued"/> the caller still owns the buffer
    /// and must fail the request.
    /// </summary>
    public EnqueueResult TryEnqueue(RespRequest request)
    {
        var size = request.Written.Length;
        lock (_sync)
        {
            if (_closed)
            {
                return EnqueueResult.Closed;
            }
            if (_expired.Count + _pending.Count >= _maxPending || Interlocked.Read(ref _queuedBytes) + size > _maxQueuedBytes)
            {
                return EnqueueResult.Full;
            }
            request.Size = size;
            Interlocked.Add(ref _queuedBytes, size);
            _pending.Enqueue(request);
            _outgoing.Writer.TryWrite(request);
            return EnqueueResult.Queued;
        }
    }

    public RespQueueFullException QueueFull() =>
        new($"the queue to {_endpoint} is full (at most {_maxPending} commands awaiting replies and {_maxQueuedBytes} unsent bytes); Redis is not keeping up or not answering");

    /// <summary>
    /// Fails the requests whose deadline passed; their replies, when they come, are matched and dropped. Fails the
    /// whole session when a keepalive PING timed out, or when the oldest command owed a reply has waited
    /// <see cref="HungAfterTimeouts"/> timeouts: Redis is not answering this connection.
    /// </summary>
    public void ExpireTimedOut(long now, TimeSpan timeout, long timeoutTicks)
    {
        List<RespRequest>? expired = null;
        string? hung = null;
        lock (_sync)
        {
            while (_pending.TryPeek(out var head) && head.Deadline <= now)
            {
                _expired.Enqueue(_pending.Dequeue());
                (expired ??= []).Add(head);
                if (head.IsProbe)
                {
                    hung = $"{_endpoint} did not answer PING within {timeout}";
                }
            }
            if (hung is null && _expired.TryPeek(out var oldest) && now - oldest.Deadline >= (HungAfterTimeouts - 1) * timeoutTicks)
            {
                hung = $"{_endpoint} did not answer {oldest.Command} within {HungAfterTimeouts} x {timeout}";
            }
        }
        if (expired is not null)
        {
            foreach (var request in expired)
            {
                _logger.CommandTimedOut(request.Command, timeout);
                request.TrySetException(new RespTimeoutException($"{request.Command} got no reply from {_endpoint} within {timeout}"));
            }
        }
        if (hung is not null)
        {
            _logger.ConnectionHung(_endpoint, hung);
            Fail(new RespConnectionException(hung + "; dropping the connection"));
        }
    }

    public void Fail(Exception reason)
    {
        RespRequest[] failed;
        lock (_sync)
        {
            if (_closed)
            {
                return;
            }
            _closed = true;
            failed = [.. _expired, .. _pending];
            _expired.Clear();
            _pending.Clear();
        }
        _outgoing.Writer.TryComplete();
        foreach (var request in failed)
        {
            request.TrySetException(reason);
        }
        try
        {
            // Ends a read or flush in progress; both loops then finish on their own.
            _stream.Dispose();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
        _completion.TrySetResult(reason);
    }

    private async Task WriteLoopAsync()
    {
        Exception? error = null;
        try
        {
            var outgoing = _outgoing.Reader;
            while (await outgoing.WaitToReadAsync().ConfigureAwait(false))
            {
                long batch = 0;
                while (batch < FlushThreshold && outgoing.TryRead(out var request))
                {
                    // Written even if it already timed out: it holds a place in the FIFO and its reply will come.
                    _writer.Write(request.Written);
                    request.ReleaseBuffer();
                    batch += request.Size;
                }
                var flush = await _writer.FlushAsync().ConfigureAwait(false);
                // Counted until flushed: a Redis that stops reading blocks the flush, and what waits behind it is
                // what MaxQueuedBytes bounds.
                Interlocked.Add(ref _queuedBytes, -batch);
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception e)
        {
            error = e;
        }
        finally
        {
            Fail(new RespConnectionException($"writing to {_endpoint} failed" + (error is null ? "" : ": " + error.Message), error));
            while (_outgoing.Reader.TryRead(out var request))
            {
                request.ReleaseBuffer();
            }
            await _writer.CompleteAsync().ConfigureAwait(false);
        }
    }

    private async Task ReadLoopAsync()
    {
        Exception reason;
        try
        {
            while (true)
            {
                var result = await _reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                try
                {
                    while (RespReader.TryRead(ref buffer, out var value))
                    {
                        Dispatch(value);
                    }
                }
                finally
                {
                    _reader.AdvanceTo(buffer.Start, buffer.End);
                }
                if (result.IsCompleted || result.IsCanceled)
                {
                    reason = new RespConnectionException($"{_endpoint} closed the connection");
                    break;
                }
            }
        }
        catch (RespProtocolException e)
        {
            _logger.ProtocolError(_endpoint, e);
            reason = new RespConnectionException($"{_endpoint} broke the protocol: {e.Message}", e);
        }
        catch (Exception e)
        {
            reason = new RespConnectionException($"the connection to {_endpoint} was lost: {e.Message}", e);
        }
        Fail(reason);
        await _reader.CompleteAsync().ConfigureAwait(false);
    }

    private void Dispatch(RespValue value)
    {
        if (_push is not null && _push(value))
        {
            return;
        }
        RespRequest? done = null;
        lock (_sync)
        {
            var queue = _expired.Count > 0 ? _expired : _pending;
            if (!queue.TryPeek(out var head))
            {
                if (_push is not null)
                {
                    // A subscriber may get unsolicited confirmations (e.g. a server-side SUNSUBSCRIBE after a slot
                    // moved in a cluster); they are not worth a reconnect.
                    _logger.UnexpectedReply(value.ToString(), _endpoint);
                    return;
                }
                throw new RespProtocolException($"a reply ({value}) arrived with no command waiting for it");
            }
            if (value.Type == RespType.Error || --head.RemainingReplies <= 0)
            {
                done = queue.Dequeue();
            }
        }
        if (done is null)
        {
            return;
        }
        if (value.Type == RespType.Error)
        {
            done.TrySetException(new RespServerException(value.AsString() ?? "ERR"));
        }
        else
        {
            done.TrySetResult(value);
        }
    }
}

internal enum EnqueueResult : byte
{
    Queued,
    Closed,
    Full,
}

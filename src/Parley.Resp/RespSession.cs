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
/// </summary>
internal sealed class RespSession
{
    private readonly Stream _stream;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private readonly Channel<RespRequest> _outgoing = Channel.CreateUnbounded<RespRequest>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Queue<RespRequest> _pending = new();
    private readonly Lock _sync = new();
    private readonly TaskCompletionSource<Exception> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Func<RespValue, bool>? _push;
    private readonly ILogger _logger;
    private readonly string _endpoint;
    private bool _closed;

    // push: for the subscriber, claims pub/sub messages before FIFO matching; returns true if consumed.
    public RespSession(Stream stream, ILogger logger, string endpoint, Func<RespValue, bool>? push)
    {
        _stream = stream;
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        _writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
        _logger = logger;
        _endpoint = endpoint;
        _push = push;
    }

    /// <summary>Completes with the reason once the session has failed; never faults.</summary>
    public Task<Exception> Completion => _completion.Task;

    public bool IsClosed => Volatile.Read(ref _closed);

    public void Start()
    {
        _ = Task.Run(WriteLoopAsync);
        _ = Task.Run(ReadLoopAsync);
    }

    /// <summary>Queues a request; false when the session is already closed (the caller still owns the buffer).</summary>
    public bool TryEnqueue(RespRequest request)
    {
        lock (_sync)
        {
            if (_closed)
            {
                return false;
            }
            _pending.Enqueue(request);
            _outgoing.Writer.TryWrite(request);
            return true;
        }
    }

    /// <summary>Fails the requests whose deadline passed; their replies, when they come, are matched and dropped.</summary>
    public void ExpireTimedOut(long now, TimeSpan timeout)
    {
        List<RespRequest>? expired = null;
        lock (_sync)
        {
            foreach (var request in _pending)
            {
                if (request.Deadline <= now && !request.Task.IsCompleted)
                {
                    (expired ??= []).Add(request);
                }
            }
        }
        if (expired is null)
        {
            return;
        }
        foreach (var request in expired)
        {
            _logger.CommandTimedOut(request.Command, timeout);
            request.TrySetException(new RespTimeoutException($"{request.Command} got no reply from {_endpoint} within {timeout}"));
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
            failed = [.. _pending];
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
                while (outgoing.TryRead(out var request))
                {
                    // Written even if it already timed out: it holds a place in the FIFO and its reply will come.
                    _writer.Write(request.Written);
                    request.ReleaseBuffer();
                }
                var flush = await _writer.FlushAsync().ConfigureAwait(false);
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
            if (!_pending.TryPeek(out var head))
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
                done = _pending.Dequeue();
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

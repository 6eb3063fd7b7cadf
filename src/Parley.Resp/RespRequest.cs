using System.Buffers;

namespace Parley.Resp;

/// <summary>
/// A command on its way: its encoded bytes (in a pooled array, returned by the write loop once copied to the
/// socket's pipe) and the task its caller awaits. Continuations run asynchronously so no caller's code runs on the
/// read loop.
/// </summary>
internal sealed class RespRequest : TaskCompletionSource<RespValue>, IBufferWriter<byte>
{
    private byte[]? _buffer;
    private int _length;

    public RespRequest(string command, int expectedReplies, long deadline)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        Command = command;
        RemainingReplies = expectedReplies;
        Deadline = deadline;
        _buffer = ArrayPool<byte>.Shared.Rent(256);
    }

    public string Command { get; }

    /// <summary>SUBSCRIBE a b c is confirmed by one reply per channel; everything else by one reply.</summary>
    public int RemainingReplies { get; set; }

    /// <summary>When the caller stops waiting, in <see cref="TimeProvider.GetTimestamp"/> units.</summary>
    public long Deadline { get; }

    /// <summary>
    /// A keepalive PING: when it gets no reply in time the connection is declared dead, since every other command
    /// queued behind it on the same FIFO is not being answered either.
    /// </summary>
    public bool IsProbe { get; init; }

    /// <summary>The encoded length, fixed when the request is queued (counted against the queue's byte cap).</summary>
    public int Size { get; set; }

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    public void Advance(int count) => _length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Grow(sizeHint);
        return _buffer.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Grow(sizeHint);
        return _buffer.AsSpan(_length);
    }

    /// <summary>Called once, by whoever last owns the bytes (the write loop, or the caller if never enqueued).</summary>
    public void ReleaseBuffer()
    {
        var buffer = _buffer;
        _buffer = null;
        _length = 0;
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Grow(int sizeHint)
    {
        var buffer = _buffer ?? throw new ObjectDisposedException(nameof(RespRequest));
        sizeHint = Math.Max(sizeHint, 1);
        if (buffer.Length - _length >= sizeHint)
        {
            return;
        }
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(buffer.Length * 2, _length + sizeHint));
        buffer.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(buffer);
        _buffer = bigger;
    }
}

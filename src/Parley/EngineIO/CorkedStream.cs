using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Parley.EngineIO;

/// <summary>
/// The upgraded connection's stream under a WebSocket, able to hold writes back ("cork", as TCP_CORK) so that a
/// writer's batch of frames reaches Kestrel as one write and one flush instead of one per frame.
/// </summary>
/// <remarks>
/// <para>
/// <c>ManagedWebSocket.SendAsync</c> writes each message to its stream at once, and Kestrel's upgraded stream flushes
/// its pipe on every write: with many packets queued for one client, the per-frame write and flush cost more than the
/// frames themselves (docs/capacity.md). The writer (<c>EngineConnection.WriteLoopAsync</c>) sets
/// <see cref="Corked"/> for every frame of a batch but the last; those frames are copied here, and the last one goes
/// out with them in one write.
/// </para>
/// <para>
/// Every write comes from <c>ManagedWebSocket</c> under its send lock (data frames, and the pongs and close frames
/// its receive side or a closing connection sends), so writes never overlap and only they touch the buffer. A control
/// frame is never held: it goes out at once with whatever is held before it. An idle connection holds no buffer: it
/// is rented for a batch and returned once written.
/// </para>
/// </remarks>
internal sealed class CorkedStream(Stream inner) : Stream
{
    /// <summary>The most a corked batch holds before a frame is written through anyway.</summary>
    internal const int Limit = 64 * 1024;

    private byte[]? _buffer;
    private int _length;
    private volatile bool _corked;

    /// <summary>While true, writes are held back; the next write after it is cleared sends them with its own.</summary>
    public bool Corked
    {
        get => _corked;
        set => _corked = value;
    }

    /// <summary>Bytes held back now (read by the writer to bound a batch; written only under the send lock).</summary>
    public int Buffered => Volatile.Read(ref _length);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_corked && _length + buffer.Length <= Limit && !IsControlFrame(buffer.Span))
        {
            Append(buffer.Span);
            return ValueTask.CompletedTask;
        }
        if (_length == 0)
        {
            return inner.WriteAsync(buffer, cancellationToken);
        }
        Append(buffer.Span);
        ValueTask write;
        try
        {
            write = inner.WriteAsync(_buffer.AsMemory(0, _length), cancellationToken);
        }
        catch
        {
            ReleaseBuffer();
            throw;
        }
        if (!write.IsCompletedSuccessfully)
        {
            return AwaitHeldAsync(write);
        }
        // The usual case: Kestrel took the bytes and flushed at once; no state machine for it.
        ReleaseBuffer();
        return write;
    }

    private async ValueTask AwaitHeldAsync(ValueTask write)
    {
        try
        {
            await write;
        }
        finally
        {
            ReleaseBuffer();
        }
    }

    /// <summary>
    /// A close, ping or pong frame (RFC 6455 §5.5: opcodes 0x8 to 0xA, the low four bits of the first byte).
    /// <c>ManagedWebSocket</c> writes each frame, header and payload, in one write, so a write starts with a header.
    /// Such a frame is never held back: a close frame sent while a batch is corked (a connection closed from another
    /// thread) must leave at once, since the writer's next frame would be refused after it and flush nothing.
    /// </summary>
    private static bool IsControlFrame(ReadOnlySpan<byte> frame) => frame.Length > 0 && (frame[0] & 0x08) != 0;

    public override Task FlushAsync(CancellationToken cancellationToken) =>
        _corked ? Task.CompletedTask : inner.FlushAsync(cancellationToken);

    private void Append(ReadOnlySpan<byte> data)
    {
        var needed = _length + data.Length;
        if (_buffer is null || _buffer.Length < needed)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 4096));
            _buffer?.AsSpan(0, _length).CopyTo(bigger);
            if (_buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
            }
            _buffer = bigger;
        }
        data.CopyTo(_buffer.AsSpan(_length));
        Volatile.Write(ref _length, needed);
    }

    private void ReleaseBuffer()
    {
        var buffer = _buffer;
        _buffer = null;
        Volatile.Write(ref _length, 0);
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override bool CanRead => inner.CanRead;

    public override bool CanWrite => inner.CanWrite;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }
        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => inner.DisposeAsync();
}

/// <summary>
/// Wraps an Engine.IO request's upgrade so that the WebSocket ASP.NET Core accepts runs over a
/// <see cref="CorkedStream"/>, which the engine finds here (<see cref="Of"/>). Installed ahead of
/// <c>UseWebSockets</c> by <c>AddParley</c>; without it the engine writes frame by frame.
/// </summary>
internal sealed class CorkingUpgradeFeature(IHttpUpgradeFeature inner) : IHttpUpgradeFeature
{
    private CorkedStream? _stream;

    public bool IsUpgradableRequest => inner.IsUpgradableRequest;

    public async Task<Stream> UpgradeAsync() => _stream = new CorkedStream(await inner.UpgradeAsync());

    /// <summary>The corked stream under the request's accepted WebSocket, if the request was upgraded through one.</summary>
    public static CorkedStream? Of(HttpContext context) => (context.Features.Get<IHttpUpgradeFeature>() as CorkingUpgradeFeature)?._stream;

    /// <summary>The middleware: wraps the upgrade of a request that carries Engine.IO's <c>EIO</c> query parameter.</summary>
    public static Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade && context.Request.Query.ContainsKey("EIO"))
        {
            context.Features.Set<IHttpUpgradeFeature>(new CorkingUpgradeFeature(upgrade));
        }
        return next(context);
    }
}

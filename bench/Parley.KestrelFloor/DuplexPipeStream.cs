using System.Buffers;
using System.IO.Pipelines;

namespace Parley.KestrelFloor;

/// <summary>
/// A Stream over a connection's duplex pipe, for <see cref="System.Net.WebSockets.WebSocket.CreateFromStream(Stream, System.Net.WebSockets.WebSocketCreationOptions)"/>
/// (part of the measurement spike). A zero-byte read waits for data and consumes nothing, so the WebSocket's
/// zero-byte read holds no buffer while the socket is idle; Kestrel's socket transport does the same below it.
/// </summary>
internal sealed class DuplexPipeStream(IDuplexPipe pipe) : Stream
{
    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var result = await pipe.Input.ReadAsync(cancellationToken);
        var sequence = result.Buffer;
        var consumed = sequence.Start;
        try
        {
            if (!sequence.IsEmpty)
            {
                var count = (int)Math.Min(sequence.Length, buffer.Length);
                var slice = sequence.Slice(0, count);
                slice.CopyTo(buffer.Span);
                consumed = slice.End;
                return count;
            }
            return 0; // end of stream (IsCompleted) or a cancelled read
        }
        finally
        {
            pipe.Input.AdvanceTo(consumed);
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var result = await pipe.Output.WriteAsync(buffer, cancellationToken);
        if (result.IsCompleted || result.IsCanceled)
        {
            throw new IOException("The connection's output is closed.");
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => pipe.Output.FlushAsync(cancellationToken).AsTask();

    public override void Flush() => throw new NotSupportedException("Synchronous I/O is not supported.");
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Synchronous I/O is not supported.");
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Synchronous I/O is not supported.");
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    public override ValueTask DisposeAsync()
    {
        pipe.Input.Complete();
        pipe.Output.Complete();
        return ValueTask.CompletedTask;
    }
}

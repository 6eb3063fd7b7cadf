using System.Buffers;

namespace Parley.EngineIO;

/// <summary>A growable <see cref="IBufferWriter{T}"/> over <see cref="ArrayPool{T}"/>; dispose to return the array.</summary>
internal sealed class PooledBuffer : IBufferWriter<byte>, IDisposable
{
    private byte[] _array;
    private int _length;

    public PooledBuffer(int initialCapacity = 256) => _array = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 16));

    public int Length => _length;

    public ReadOnlyMemory<byte> WrittenMemory => _array.AsMemory(0, _length);

    public ReadOnlySpan<byte> WrittenSpan => _array.AsSpan(0, _length);

    public void Advance(int count) => _length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsSpan(_length);
    }

    public void Clear() => _length = 0;

    public byte[] ToArray() => WrittenSpan.ToArray();

    public void Dispose()
    {
        var array = _array;
        _array = [];
        if (array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    private void Ensure(int sizeHint)
    {
        sizeHint = Math.Max(sizeHint, 1);
        if (_array.Length - _length >= sizeHint)
        {
            return;
        }
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_array.Length * 2, _length + sizeHint));
        _array.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_array);
        _array = bigger;
    }
}

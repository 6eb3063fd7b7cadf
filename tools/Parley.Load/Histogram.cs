using System.Numerics;

namespace Parley.Load;

/// <summary>
/// A lock-free latency histogram in microseconds: log-linear buckets (32 per power of two, about 3% wide), so
/// millions of samples cost a fixed 16 KB and percentiles are exact to a bucket.
/// </summary>
internal sealed class Histogram
{
    private const int SubBits = 5;
    private const int Sub = 1 << SubBits;
    private readonly long[] _buckets = new long[64 * Sub];
    private long _count;
    private long _max;

    public long Count => Volatile.Read(ref _count);

    public long MaxMicroseconds => Volatile.Read(ref _max);

    public void Record(long microseconds)
    {
        var v = Math.Max(0, microseconds);
        Interlocked.Increment(ref _buckets[Index(v)]);
        Interlocked.Increment(ref _count);
        var max = Volatile.Read(ref _max);
        while (v > max)
        {
            var seen = Interlocked.CompareExchange(ref _max, v, max);
            if (seen == max)
            {
                break;
            }
            max = seen;
        }
    }

    /// <summary>The value at <paramref name="quantile"/> (0..1) in microseconds (a bucket's middle; the max is exact).</summary>
    public long Percentile(double quantile)
    {
        var count = Count;
        if (count == 0)
        {
            return 0;
        }
        if (quantile >= 1)
        {
            return MaxMicroseconds;
        }
        var rank = (long)Math.Ceiling(quantile * count);
        long seen = 0;
        for (var i = 0; i < _buckets.Length; i++)
        {
            seen += Volatile.Read(ref _buckets[i]);
            if (seen >= rank && seen > 0)
            {
                return Math.Min(Value(i), MaxMicroseconds);
            }
        }
        return MaxMicroseconds;
    }

    internal static int Index(long v)
    {
        if (v < Sub)
        {
            return (int)v;
        }
        var msb = 63 - BitOperations.LeadingZeroCount((ulong)v);
        var shift = msb - SubBits;
        return ((shift + 1) * Sub) + (int)((v >> shift) - Sub);
    }

    internal static long Value(int index)
    {
        if (index < Sub)
        {
            return index;
        }
        var shift = (index / Sub) - 1;
        var sub = (long)(index % Sub) + Sub;
        return (sub << shift) + ((1L << shift) / 2);
    }
}

namespace Parley.Load.Tests;

public sealed class HistogramTests
{
    [Fact]
    public void Percentiles_are_within_a_bucket_of_the_truth()
    {
        var h = new Histogram();
        for (var v = 1; v <= 100_000; v++)
        {
            h.Record(v);
        }
        Assert.Equal(100_000, h.Count);
        Assert.Equal(100_000, h.MaxMicroseconds);
        Assert.InRange(h.Percentile(0.5), 50_000 * 0.97, 50_000 * 1.03);
        Assert.InRange(h.Percentile(0.99), 99_000 * 0.97, 99_000 * 1.03);
        Assert.Equal(100_000, h.Percentile(1));
    }

    [Fact]
    public void Every_bucket_holds_its_own_values()
    {
        for (long v = 0; v < 1L << 40; v = (v * 5 / 4) + 1)
        {
            var value = Histogram.Value(Histogram.Index(v));
            Assert.InRange(value, v * 0.96, (v * 1.04) + 1);
        }
    }

    [Fact]
    public void The_send_time_marker_is_found_in_a_delivery()
    {
        Assert.Equal(1234567890123L, LoadRunner.Marker("""["message",{"user":"a","text":"~T1234567890123~","ts":5}]"""u8));
        Assert.Null(LoadRunner.Marker("""["message",{"text":"plain"}]"""u8));
    }
}

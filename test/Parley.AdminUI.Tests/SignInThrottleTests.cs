namespace Parley.AdminUI.Tests;

/// <summary>The sign-in throttle's window and its bound, on a clock the test moves.</summary>
public sealed class SignInThrottleTests
{
    private sealed class SteppedClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }

    [Fact]
    public void An_address_is_blocked_at_its_limit_within_the_window_and_free_after_it()
    {
        var clock = new SteppedClock();
        var throttle = new SignInThrottle(maxFailures: 2, TimeSpan.FromMinutes(1), clock);
        throttle.Failed("10.0.0.1");
        Assert.False(throttle.IsBlocked("10.0.0.1"));
        clock.Advance(TimeSpan.FromSeconds(59));
        throttle.Failed("10.0.0.1");
        Assert.True(throttle.IsBlocked("10.0.0.1"));
        Assert.False(throttle.IsBlocked("10.0.0.2"));
        // The window counts from the first failure.
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.False(throttle.IsBlocked("10.0.0.1"));
        throttle.Failed("10.0.0.1");
        Assert.False(throttle.IsBlocked("10.0.0.1"));
        throttle.Succeeded("10.0.0.1");
        throttle.Failed("10.0.0.1");
        Assert.False(throttle.IsBlocked("10.0.0.1"));
    }

    [Fact]
    public void A_full_table_drops_expired_entries_first_then_the_oldest()
    {
        var clock = new SteppedClock();
        var throttle = new SignInThrottle(maxFailures: 1, TimeSpan.FromMinutes(1), clock, maxTracked: 2);
        throttle.Failed("old");
        clock.Advance(TimeSpan.FromSeconds(1));
        throttle.Failed("newer");
        throttle.Failed("newest");
        // "old" made room: the others keep their count.
        Assert.False(throttle.IsBlocked("old"));
        Assert.True(throttle.IsBlocked("newer"));
        Assert.True(throttle.IsBlocked("newest"));

        clock.Advance(TimeSpan.FromMinutes(1));
        throttle.Failed("fresh");
        throttle.Failed("fresher");
        Assert.True(throttle.IsBlocked("fresh"));
        Assert.True(throttle.IsBlocked("fresher"));
    }
}

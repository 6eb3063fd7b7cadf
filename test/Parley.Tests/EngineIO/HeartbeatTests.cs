using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.EngineIO;

namespace Parley.Tests.EngineIO;

/// <summary>
/// The one heartbeat of a server (EngineHeartbeat) on a clock that moves only when told: engine.io's timings on the
/// timer's grid (exact when they fall on it, never early), deadlines that fire in order and in batches among many
/// connections, and nothing left behind by a closed one.
/// </summary>
public sealed class HeartbeatTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(25);
    private static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(20);

    private static (EngineServer Server, ManualClock Time) NewServer()
    {
        var time = new ManualClock();
        var server = new EngineServer(new EngineOptions { PingInterval = Interval, PingTimeout = PingTimeout }, NullLogger.Instance, _ => { }, time);
        return (server, time);
    }

    private static EngineConnection Open(EngineServer server, ManualClock time, string id, int protocol, List<string> closed)
    {
        var connection = new EngineConnection(server, id, EngineTransport.WebSocket, new EngineHandshake(new DefaultHttpContext(), time.GetUtcNow()), protocol)
        {
            Closed = (c, reason) =>
            {
                lock (closed)
                {
                    closed.Add(c.Id + ":" + reason);
                }
            },
        };
        connection.StartHeartbeat();
        return connection;
    }

    [Fact]
    public void V4PingThenPingTimeoutAtExactTimes()
    {
        var (server, time) = NewServer();
        var closed = new List<string>();
        var connection = Open(server, time, "a", 4, closed);
        Assert.Equal(EngineConnectionState.Open, connection.State);
        Assert.Equal(1, server.Heartbeat.Count); // the next ping

        time.Advance(Interval - TimeSpan.FromMilliseconds(1));
        Assert.Empty(closed);
        time.Advance(TimeSpan.FromMilliseconds(1)); // ping sent, pong awaited
        Assert.Equal(1, server.Heartbeat.Count);
        time.Advance(PingTimeout - TimeSpan.FromMilliseconds(1));
        Assert.Empty(closed);
        time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(["a:" + EngineCloseReasons.PingTimeout], closed);
        Assert.Equal(EngineConnectionState.Closed, connection.State);
        Assert.Equal(0, server.Heartbeat.Count);
    }

    [Fact]
    public void ManyConnectionsTimeOutInOrderAndClosedOnesLeaveNothing()
    {
        var (server, time) = NewServer();
        var closed = new List<string>();
        var connections = new List<EngineConnection>();
        // v3 sessions: one deadline each, pingInterval + pingTimeout after the open; opened 1 ms apart.
        for (var i = 0; i < 500; i++)
        {
            connections.Add(Open(server, time, i.ToString("D3", System.Globalization.CultureInfo.InvariantCulture), 3, closed));
            time.Advance(TimeSpan.FromMilliseconds(1));
        }
        Assert.Equal(500, server.Heartbeat.Count);
        // The server closes every third one (nothing queued: at once); their deadlines go with them.
        for (var i = 0; i < 500; i += 3)
        {
            connections[i].OnClose(EngineCloseReasons.ForcedClose);
        }
        Assert.Equal(500 - 167, server.Heartbeat.Count);
        closed.Clear();

        // The timer fires on a 100 ms grid (a hundredth of the 20 s pingTimeout, at most 100 ms), never before a
        // deadline. The first survivor (1) opened 1 ms after the first: 500 ms have passed, so it is due in 45 s -
        // 499 ms, and fires with every other deadline due by the next grid point, 45 s - 400 ms from now.
        Assert.Equal(TimeSpan.FromMilliseconds(100), server.Heartbeat.Resolution);
        time.Advance(Interval + PingTimeout - TimeSpan.FromMilliseconds(500));
        Assert.Empty(closed);
        time.Advance(TimeSpan.FromMilliseconds(99));
        Assert.Empty(closed);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(Expected(1, 100), closed);
        time.Advance(TimeSpan.FromMilliseconds(399));
        Assert.Equal(Expected(1, 400), closed);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(Expected(1, 499), closed);
        Assert.Equal(0, server.Heartbeat.Count);

        static IEnumerable<string> Expected(int first, int last) => Enumerable.Range(first, last - first + 1).Where(i => i % 3 != 0)
            .Select(i => i.ToString("D3", System.Globalization.CultureInfo.InvariantCulture) + ":" + EngineCloseReasons.PingTimeout);
    }

    [Fact]
    public void DeadlinesDueWithinOneGridStepFireTogetherAndNeverEarly()
    {
        var (server, time) = NewServer();
        var closed = new List<string>();
        // Opened 30 ms apart from 10 ms past a grid point: pings due at 25.010 s, 25.040 s and 25.070 s.
        time.Advance(TimeSpan.FromMilliseconds(10));
        for (var i = 0; i < 3; i++)
        {
            Open(server, time, i.ToString(System.Globalization.CultureInfo.InvariantCulture), 4, closed);
            time.Advance(TimeSpan.FromMilliseconds(30));
        }
        // Now 100 ms. The three pings share the grid point 25.100 s: the timer fires once there, not before.
        time.Advance(Interval - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, time.Fires);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, time.Fires);
        // All three pings went out at 25.100 s, so no pong times all three out at 45.100 s, in one fire.
        time.Advance(PingTimeout - TimeSpan.FromMilliseconds(1));
        Assert.Empty(closed);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, time.Fires);
        Assert.Equal(["0:" + EngineCloseReasons.PingTimeout, "1:" + EngineCloseReasons.PingTimeout, "2:" + EngineCloseReasons.PingTimeout], closed.Order()); // same due time: any order
    }

    [Fact]
    public void GracefulCloseWaitsForTheQueueThenClosesWithinThirtySeconds()
    {
        var (server, time) = NewServer();
        var closed = new List<string>();
        // A WebSocket session whose socket is not accepted yet: what is queued stays queued.
        var connection = Open(server, time, "a", 4, closed);
        Assert.True(connection.Send(Parley.Protocol.EngineIO.EnginePacket.Noop));
        connection.Close();
        Assert.Equal(EngineConnectionState.Closing, connection.State);
        Assert.False(connection.Send(Parley.Protocol.EngineIO.EnginePacket.Noop)); // closing takes nothing more

        time.Advance(TimeSpan.FromSeconds(30) - TimeSpan.FromMilliseconds(1));
        Assert.Empty(closed);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(["a:" + EngineCloseReasons.ForcedClose], closed);
        Assert.Equal(0, server.Heartbeat.Count);
    }

    /// <summary>A clock whose timers fire, on the caller's thread, when <see cref="Advance"/> reaches them.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private readonly List<ManualTimer> _timers = [];
        private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        /// <summary>How many times a timer has fired.</summary>
        public int Fires { get; private set; }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = new ManualTimer(this, callback, state);
            timer.Change(dueTime, period);
            lock (_timers)
            {
                _timers.Add(timer);
            }
            return timer;
        }

        public void Advance(TimeSpan by)
        {
            var target = _now + by;
            while (true)
            {
                ManualTimer? next;
                lock (_timers)
                {
                    next = _timers.Where(t => t.Due is { } d && d <= target).MinBy(t => t.Due);
                }
                if (next is null)
                {
                    break;
                }
                _now = next.Due!.Value;
                next.Due = null;
                Fires++;
                next.Fire();
            }
            _now = target;
        }

        private sealed class ManualTimer(ManualClock clock, TimerCallback callback, object? state) : ITimer
        {
            public DateTimeOffset? Due { get; set; }

            public void Fire() => callback(state);

            public bool Change(TimeSpan dueTime, TimeSpan period)
            {
                Due = dueTime == Timeout.InfiniteTimeSpan ? null : clock._now + dueTime;
                return true;
            }

            public void Dispose() => Due = null;

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }
}

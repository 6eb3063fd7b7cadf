namespace Parley.Load;

/// <summary>What a run does; the command line fills it, tests build it directly.</summary>
internal sealed class LoadSettings
{
    /// <summary>Hard bounds, whatever is asked: the tool must never be a runaway process.</summary>
    public const int MaxConnections = 100_000;

    public static readonly TimeSpan MaxDuration = TimeSpan.FromHours(2);

    /// <summary><c>connect</c>, <c>handshake</c>, <c>fanout</c> or <c>echo</c>.</summary>
    public string Scenario { get; set; } = "connect";

    /// <summary>Clients held open (connect, fanout, echo) or handshakes made (handshake).</summary>
    public int Connections { get; set; } = 100;

    /// <summary>Handshakes in flight at once while ramping.</summary>
    public int Concurrency { get; set; } = 50;

    /// <summary>How long the measured phase lasts (connect: the hold; fanout and echo: the sending).</summary>
    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Pause between the ramp and the measured phase (connect: before reading the server's memory).</summary>
    public TimeSpan Settle { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>The whole run stops after this, finished or not.</summary>
    public TimeSpan MaxTime { get; set; } = TimeSpan.FromMinutes(20);

    /// <summary>fanout: how many of the clients send.</summary>
    public int Senders { get; set; } = 10;

    /// <summary>fanout: messages per second per sender; 0 sends the next one when the previous is acked.</summary>
    public double Rate { get; set; }

    /// <summary>echo (and fanout at rate 0): emits in flight per sending client.</summary>
    public int Window { get; set; } = 1;

    /// <summary>The event emitted (fanout, echo).</summary>
    public string Event { get; set; } = "message";

    /// <summary>The event's argument as JSON; <c>$ts</c> becomes the send-time marker receivers time the delivery with.</summary>
    public string Data { get; set; } = """{"text":"$ts"}""";

    /// <summary>fanout: after the last send, the run ends once deliveries have stopped arriving for this long.</summary>
    public TimeSpan DrainQuiet { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Print a progress line every second.</summary>
    public bool Progress { get; set; } = true;

    public string? Validate()
    {
        if (Scenario is not ("connect" or "handshake" or "fanout" or "echo"))
        {
            return "scenario must be connect, handshake, fanout or echo";
        }
        if (Connections is < 1 or > MaxConnections)
        {
            return $"--connections must be 1..{MaxConnections}";
        }
        if (Concurrency < 1)
        {
            return "--concurrency must be at least 1";
        }
        if (Duration <= TimeSpan.Zero || Duration > MaxDuration || MaxTime <= TimeSpan.Zero || MaxTime > MaxDuration)
        {
            return $"--duration and --max-time must be positive and at most {MaxDuration.TotalHours} h";
        }
        if (Scenario == "fanout" && (Senders < 1 || Senders > Connections))
        {
            return "--senders must be 1..connections";
        }
        if (Rate < 0 || Window < 1)
        {
            return "--rate must be >= 0 and --window >= 1";
        }
        return null;
    }
}

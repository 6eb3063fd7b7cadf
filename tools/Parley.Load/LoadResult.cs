namespace Parley.Load;

/// <summary>What a run measured; written as JSON with <c>--json</c>.</summary>
internal sealed class LoadResult
{
    public string Scenario { get; set; } = "";

    public string Transport { get; set; } = "";

    public string Url { get; set; } = "";

    /// <summary>What the main operation is: handshakes, deliveries, acks.</summary>
    public string Operation { get; set; } = "";

    public int ConnectionsAsked { get; set; }

    public int Connected { get; set; }

    public long Disconnects { get; set; }

    public long ErrorCount { get; set; }

    public Dictionary<string, long> Errors { get; set; } = [];

    public long Operations { get; set; }

    public double Seconds { get; set; }

    public double PerSecond { get; set; }

    public double P50Ms { get; set; }

    public double P90Ms { get; set; }

    public double P99Ms { get; set; }

    public double MaxMs { get; set; }

    /// <summary>fanout: messages sent and acked; with <see cref="Connected"/> receivers each, expected deliveries.</summary>
    public long Sent { get; set; }

    public long Acked { get; set; }

    /// <summary>Server CPU over the measured phase (connect: over the idle hold of <see cref="HoldSeconds"/>).</summary>
    public double? ServerCpuSeconds { get; set; }

    /// <summary>connect: how long the clients were held idle.</summary>
    public double? HoldSeconds { get; set; }

    /// <summary>True when the server CPU is idle cost (connect), not the cost of the operations.</summary>
    public bool Idle { get; set; }

    public double? PerServerCpuSecond { get; set; }

    public long? ServerRssBefore { get; set; }

    public long? ServerRssAfter { get; set; }

    /// <summary>connect: (RSS with the clients − RSS before) ÷ clients.</summary>
    public double? RssPerConnection { get; set; }

    public List<LoadSample> Timeline { get; set; } = [];
}

/// <summary>One second of a run.</summary>
internal sealed class LoadSample
{
    public double T { get; set; }

    public int Open { get; set; }

    public long Operations { get; set; }

    public double P50Ms { get; set; }

    public double P99Ms { get; set; }

    public double MaxMs { get; set; }

    public long? ServerRss { get; set; }

    public double? ServerCpuPercent { get; set; }
}

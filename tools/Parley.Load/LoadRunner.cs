using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;

namespace Parley.Load;

/// <summary>Runs one scenario against a target and measures it (and the server process, given its pid).</summary>
internal sealed class LoadRunner
{
    private readonly LoadTarget _target;
    private readonly LoadSettings _settings;
    private readonly ServerProbe _probe;
    private readonly TextWriter? _progress;
    private readonly ErrorCounts _errors = new();
    private readonly Histogram _latency = new();
    private Histogram _interval = new();
    private long _operations;
    private long _sent;
    private long _acked;
    private long _disconnects;
    private int _open;
    private volatile bool _measuring;
    private volatile bool _sending;

    public LoadRunner(LoadTarget target, LoadSettings settings, ServerProbe probe, TextWriter? progress)
    {
        _target = target;
        _settings = settings;
        _probe = probe;
        _progress = progress;
    }

    public async Task<LoadResult> RunAsync(CancellationToken ct)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bound.CancelAfter(_settings.MaxTime);
        var result = new LoadResult
        {
            Scenario = _settings.Scenario,
            Transport = _target.Polling ? "polling" : "websocket",
            Url = _target.Url.ToString(),
            ConnectionsAsked = _settings.Connections,
        };
        var clock = Stopwatch.StartNew();
        using var ticker = new CancellationTokenSource();
        var ticking = TickAsync(result, clock, ticker.Token);
        SioClient?[] clients = [];
        try
        {
            switch (_settings.Scenario)
            {
                case "connect":
                    clients = await ConnectScenarioAsync(result, bound.Token);
                    break;
                case "handshake":
                    await HandshakeScenarioAsync(result, bound.Token);
                    break;
                case "fanout":
                    clients = await FanoutScenarioAsync(result, bound.Token);
                    break;
                default:
                    clients = await EchoScenarioAsync(result, bound.Token);
                    break;
            }
        }
        catch (OperationCanceledException) when (bound.IsCancellationRequested)
        {
            _errors.Add(ct.IsCancellationRequested ? "interrupted" : "max time reached");
        }
        finally
        {
            _measuring = false;
            _sending = false;
            await ticker.CancelAsync();
            await ticking;
            foreach (var client in clients)
            {
                client?.Close();
            }
        }
        result.Connected = Math.Max(result.Connected, Volatile.Read(ref _open));
        result.Disconnects = Interlocked.Read(ref _disconnects);
        result.Errors = _errors.Snapshot();
        result.ErrorCount = _errors.Total;
        result.Operations = Interlocked.Read(ref _operations);
        result.Sent = Interlocked.Read(ref _sent);
        result.Acked = Interlocked.Read(ref _acked);
        result.PerSecond = result.Seconds > 0 ? result.Operations / result.Seconds : 0;
        result.P50Ms = Ms(_latency.Percentile(0.50));
        result.P90Ms = Ms(_latency.Percentile(0.90));
        result.P99Ms = Ms(_latency.Percentile(0.99));
        result.MaxMs = Ms(_latency.MaxMicroseconds);
        if (result.ServerCpuSeconds is { } cpu && !result.Idle)
        {
            result.PerServerCpuSecond = cpu > 0 ? result.Operations / cpu : null;
        }
        return result;
    }

    private static double Ms(long microseconds) => Math.Round(microseconds / 1000.0, 2);

    private static long Microseconds(long fromTimestamp) =>
        (long)((Stopwatch.GetTimestamp() - fromTimestamp) * 1_000_000.0 / Stopwatch.Frequency);

    /// <summary>Records one measured operation with its latency.</summary>
    private void Count(long latencyMicroseconds)
    {
        if (!_measuring)
        {
            return;
        }
        Interlocked.Increment(ref _operations);
        _latency.Record(latencyMicroseconds);
        Volatile.Read(ref _interval).Record(latencyMicroseconds);
    }

    /// <summary>Every second: a timeline sample and, if asked, a progress line.</summary>
    private async Task TickAsync(LoadResult result, Stopwatch clock, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var lastCpu = _probe.CpuSeconds();
        var lastTime = clock.Elapsed;
        long lastOps = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                var interval = Interlocked.Exchange(ref _interval, new Histogram());
                var ops = Interlocked.Read(ref _operations);
                var now = clock.Elapsed;
                var cpu = _probe.CpuSeconds();
                var sample = new LoadSample
                {
                    T = Math.Round(now.TotalSeconds, 1),
                    Open = Volatile.Read(ref _open),
                    Operations = ops - lastOps,
                    P50Ms = Ms(interval.Percentile(0.5)),
                    P99Ms = Ms(interval.Percentile(0.99)),
                    MaxMs = Ms(interval.MaxMicroseconds),
                    ServerRss = _probe.RssBytes(),
                    ServerCpuPercent = cpu is { } c && lastCpu is { } lc ? Math.Round((c - lc) * 100 / (now - lastTime).TotalSeconds, 1) : null,
                };
                result.Timeline.Add(sample);
                lastOps = ops;
                lastCpu = cpu;
                lastTime = now;
                var server = sample.ServerRss is { } rss
                    ? string.Create(CultureInfo.InvariantCulture, $"  server {rss / 1048576.0:F0} MB {sample.ServerCpuPercent:F0}% CPU")
                    : "";
                var errors = _errors.Total;
                var disconnects = Interlocked.Read(ref _disconnects);
                _progress?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[{sample.T,6:F1}s] open {sample.Open,6}  {result.Operation} {sample.Operations,7}/s  p50 {sample.P50Ms,7:F1} ms  p99 {sample.P99Ms,7:F1} ms  errors {errors}  disconnects {disconnects}{server}"));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Logs in (if the target has a login) and connects client <paramref name="index"/>.</summary>
    private async Task<SioClient> OpenOneAsync(int index, CancellationToken ct)
    {
        var cookie = await _target.LoginAsync(index, ct);
        return await SioClient.ConnectAsync(_target, index, cookie, ct);
    }

    /// <summary>
    /// Opens <see cref="LoadSettings.Connections"/> clients, <see cref="LoadSettings.Concurrency"/> at a time, and
    /// hands each, with its handshake's start time, to <paramref name="opened"/>; failures are counted as errors.
    /// </summary>
    private Task OpenAllAsync(Action<int, SioClient, long> opened, CancellationToken ct)
    {
        var next = -1;
        async Task WorkerAsync()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < _settings.Connections)
            {
                ct.ThrowIfCancellationRequested();
                var started = Stopwatch.GetTimestamp();
                try
                {
                    opened(i, await OpenOneAsync(i, ct), started);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    _errors.Add(ex);
                }
            }
        }
        return Task.WhenAll(Enumerable.Range(0, Math.Min(_settings.Concurrency, _settings.Connections)).Select(_ => Task.Run(WorkerAsync, ct)));
    }

    /// <summary>
    /// Opens every client and keeps it (a failed one leaves a null); <paramref name="wire"/> sets a client's
    /// callbacks before it is kept.
    /// </summary>
    private async Task<SioClient?[]> RampAsync(Action<SioClient>? wire, CancellationToken ct)
    {
        var clients = new SioClient?[_settings.Connections];
        await OpenAllAsync((i, client, started) =>
        {
            client.Closed = OnUnexpectedClose;
            wire?.Invoke(client);
            clients[i] = client;
            Interlocked.Increment(ref _open);
            Count(Microseconds(started));
        }, ct);
        return clients;
    }

    private void OnUnexpectedClose(SioClient client, string? reason)
    {
        Interlocked.Decrement(ref _open);
        if (reason is not null)
        {
            Interlocked.Increment(ref _disconnects);
            _errors.Add("disconnect: " + reason);
        }
    }

    /// <summary>Server CPU and wall time over a measured phase.</summary>
    private sealed class Phase(ServerProbe probe)
    {
        private readonly double? _cpu = probe.CpuSeconds();
        private readonly long _start = Stopwatch.GetTimestamp();

        public void End(LoadResult result)
        {
            result.Seconds = Stopwatch.GetElapsedTime(_start).TotalSeconds;
            var cpu = probe.CpuSeconds();
            result.ServerCpuSeconds = cpu is { } c && _cpu is { } s ? Math.Round(c - s, 2) : null;
        }
    }

    /// <summary>
    /// connect: ramp to N clients (the handshake latencies are the operations), settle, read the server's memory,
    /// then hold them for the duration, measuring the server's CPU while they sit idle.
    /// </summary>
    private async Task<SioClient?[]> ConnectScenarioAsync(LoadResult result, CancellationToken ct)
    {
        result.Operation = "connects";
        result.ServerRssBefore = _probe.RssBytes();
        var ramp = Stopwatch.StartNew();
        _measuring = true;
        var clients = await RampAsync(null, ct);
        _measuring = false;
        var rampSeconds = ramp.Elapsed.TotalSeconds;
        result.Connected = Volatile.Read(ref _open);
        await Task.Delay(_settings.Settle, ct);
        result.ServerRssAfter = _probe.RssBytes();
        if (result.ServerRssBefore is { } before && result.ServerRssAfter is { } after && result.Connected > 0)
        {
            result.RssPerConnection = Math.Round((after - before) / (double)result.Connected);
        }
        var hold = new Phase(_probe);
        await Task.Delay(_settings.Duration, ct);
        hold.End(result);
        // The server's CPU is the idle cost over the hold; the connects' rate is over the ramp.
        result.HoldSeconds = result.Seconds;
        result.Seconds = rampSeconds;
        result.Idle = true;
        return clients;
    }

    /// <summary>handshake: N × (login + connect + CONNECT), <see cref="LoadSettings.Concurrency"/> at a time, each closed once connected.</summary>
    private async Task HandshakeScenarioAsync(LoadResult result, CancellationToken ct)
    {
        result.Operation = "handshakes";
        var phase = new Phase(_probe);
        _measuring = true;
        await OpenAllAsync((_, client, started) =>
        {
            Count(Microseconds(started));
            client.Close();
        }, ct);
        _measuring = false;
        phase.End(result);
        result.Connected = (int)Interlocked.Read(ref _operations);
    }

    /// <summary>The data template with <c>$ts</c> replaced by a send-time marker (<c>~T&lt;ticks&gt;~</c>).</summary>
    private string Payload() =>
        _settings.Data.Replace("$ts", "~T" + Stopwatch.GetTimestamp().ToString(CultureInfo.InvariantCulture) + "~", StringComparison.Ordinal);

    /// <summary>The send time in a received event's marker, or null when it has none.</summary>
    internal static long? Marker(ReadOnlySpan<byte> data)
    {
        var at = data.IndexOf("~T"u8);
        if (at < 0)
        {
            return null;
        }
        return Utf8Parser.TryParse(data[(at + 2)..], out long ticks, out _) ? ticks : null;
    }

    /// <summary>
    /// fanout: N clients (in whatever room the server puts them), <see cref="LoadSettings.Senders"/> of them emit the
    /// event at <see cref="LoadSettings.Rate"/> (or as fast as acks allow); every received copy is a delivery, timed
    /// by the marker it carries.
    /// </summary>
    private async Task<SioClient?[]> FanoutScenarioAsync(LoadResult result, CancellationToken ct)
    {
        result.Operation = "deliveries";
        var clients = await RampAsync(c =>
        {
            c.EventReceived = (_, data) =>
            {
                if (Marker(data) is { } sentAt)
                {
                    Count(Microseconds(sentAt));
                }
            };
            c.AckReceived = (self, _, _) =>
            {
                Interlocked.Increment(ref _acked);
                if (_settings.Rate == 0 && _sending)
                {
                    Send(self);
                }
            };
        }, ct);
        result.Connected = Volatile.Read(ref _open);
        await Task.Delay(_settings.Settle, ct);
        var senders = clients.Where(c => c is not null).Take(_settings.Senders).ToArray();
        var phase = new Phase(_probe);
        _measuring = true;
        _sending = true;
        if (_settings.Rate == 0)
        {
            foreach (var sender in senders)
            {
                for (var w = 0; w < _settings.Window; w++)
                {
                    Send(sender!);
                }
            }
            await Task.Delay(_settings.Duration, ct);
        }
        else
        {
            await Task.WhenAll(senders.Select((s, i) => SendAtRateAsync(s!, i, senders.Length, ct)));
        }
        _sending = false;
        // Deliveries of the last messages are still on the way: let them land (bounded), then stop counting.
        await Drain(ct);
        _measuring = false;
        phase.End(result);
        result.Seconds -= _settings.DrainQuiet.TotalSeconds;
        return clients;
    }

    /// <summary>
    /// Waits until every sent message is acked and no delivery has arrived for <see cref="LoadSettings.DrainQuiet"/>,
    /// at most 10 s (a server that lost messages must not hold the run).
    /// </summary>
    private async Task Drain(CancellationToken ct)
    {
        var bound = Stopwatch.StartNew();
        var quietSince = Stopwatch.StartNew();
        var last = Interlocked.Read(ref _operations);
        while (bound.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50, ct);
            var now = Interlocked.Read(ref _operations);
            if (now != last)
            {
                last = now;
                quietSince.Restart();
            }
            else if (quietSince.Elapsed >= _settings.DrainQuiet && Interlocked.Read(ref _acked) >= Interlocked.Read(ref _sent))
            {
                return;
            }
        }
    }

    private void Send(SioClient client)
    {
        if (!client.IsOpen)
        {
            return;
        }
        Interlocked.Increment(ref _sent);
        client.Emit(_settings.Event, Payload(), ack: true);
    }

    /// <summary>One sender at a steady rate, on a schedule that does not drift; senders are spread over the period.</summary>
    private async Task SendAtRateAsync(SioClient client, int index, int count, CancellationToken ct)
    {
        var period = TimeSpan.FromSeconds(1 / _settings.Rate);
        var start = Stopwatch.GetTimestamp() + (long)(period.TotalSeconds * Stopwatch.Frequency * index / count);
        var end = Stopwatch.GetTimestamp() + (long)(_settings.Duration.TotalSeconds * Stopwatch.Frequency);
        for (long k = 0; ; k++)
        {
            var due = start + (long)(k * period.TotalSeconds * Stopwatch.Frequency);
            if (due >= end)
            {
                return;
            }
            var wait = due - Stopwatch.GetTimestamp();
            if (wait > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(wait / (double)Stopwatch.Frequency), ct);
            }
            Send(client);
        }
    }

    /// <summary>echo: every client keeps <see cref="LoadSettings.Window"/> emits with an ack in flight; an operation is an ack, timed from its emit.</summary>
    private async Task<SioClient?[]> EchoScenarioAsync(LoadResult result, CancellationToken ct)
    {
        result.Operation = "acks";
        var clients = await RampAsync(c => c.AckReceived = (self, sentAt, _) =>
        {
            Interlocked.Increment(ref _acked);
            Count(Microseconds(sentAt));
            if (_sending)
            {
                Send(self);
            }
        }, ct);
        result.Connected = Volatile.Read(ref _open);
        await Task.Delay(_settings.Settle, ct);
        var phase = new Phase(_probe);
        _measuring = true;
        _sending = true;
        foreach (var client in clients)
        {
            for (var w = 0; client is not null && w < _settings.Window; w++)
            {
                Send(client);
            }
        }
        await Task.Delay(_settings.Duration, ct);
        _sending = false;
        _measuring = false;
        phase.End(result);
        return clients;
    }
}

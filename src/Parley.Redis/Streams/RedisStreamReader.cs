using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Parley.Redis;

/// <summary>
/// Reads the stream for every namespace of this server, as upstream's <c>startPolling</c>: one loop of
/// <c>XREAD BLOCK … COUNT … STREAMS stream lastId</c>, each entry handed to its namespace's adapter, which queues it
/// (the loop never runs application code).
/// <para>
/// StackExchange.Redis has no blocking XREAD (<c>StreamReadAsync</c> never blocks) and pipelines every command of a
/// multiplexer on one connection, so a blocking command there would stall everybody's commands behind it. The loop
/// therefore has a multiplexer of its own, used for nothing else, and sends XREAD with BLOCK through
/// <c>ExecuteAsync</c> (the stream name passed as a key, so a Redis Cluster routes it to the stream's shard), with a
/// command timeout longer than the block. A blocking read delivers an entry as soon as it is appended; polling with a
/// short block would add up to the poll interval to every cross-node delivery, or cost a round trip per interval.
/// </para>
/// <para>
/// It starts from the stream's last entry (XREVRANGE, not upstream's <c>$</c>, which would skip what is appended
/// between two reads until the first entry arrives) and remembers the id of each entry it reads: when Redis is away it
/// logs (at most once a second), retries every second, and resumes from that id when Redis is back, so it misses
/// nothing the stream still holds (MAXLEN trims the oldest entries).
/// </para>
/// </summary>
internal sealed class RedisStreamReader : IAsyncDisposable
{
    private static readonly TimeSpan s_retry = TimeSpan.FromSeconds(1);

    private readonly ConfigurationOptions _configuration;
    private readonly RedisStreamsAdapterOptions _options;
    private readonly ILogger _logger;
    private readonly RedisKey _stream;
    private readonly ConcurrentDictionary<string, RedisStreamsAdapter> _adapters = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _positioned = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private readonly LogThrottle _failures = new();
    private readonly Lock _startLock = new();
    private Task? _loop;
    private ConnectionMultiplexer? _multiplexer;
    private volatile string? _lastId;
    private volatile string? _startId;

    public RedisStreamReader(ConfigurationOptions configuration, RedisStreamsAdapterOptions options, ILoggerFactory loggerFactory)
    {
        _configuration = configuration.Clone();
        _configuration.AbortOnConnectFail = false;
        _configuration.BacklogPolicy = BacklogPolicy.FailFast;
        // Longer than the block, so a read that waits for entries is not taken for a hung server.
        _configuration.AsyncTimeout = (int)(options.BlockTime + TimeSpan.FromSeconds(5)).TotalMilliseconds;
        _configuration.SyncTimeout = _configuration.AsyncTimeout;
        _configuration.ClientName = (_configuration.ClientName ?? "parley") + "-xread";
        _options = options;
        _logger = loggerFactory.CreateLogger("Parley.Redis");
        _stream = options.StreamName;
    }

    /// <summary>The id of the last entry read (null before the first position is known).</summary>
    public string? LastId => _lastId;

    /// <summary>
    /// The id after which the loop started reading (the stream's last entry then, "0-0" for an empty stream), null
    /// until it is known: every entry after it is read.
    /// </summary>
    public string? StartId => _startId;

    /// <summary>Whether the loop has its starting position (Redis was reachable once).</summary>
    public bool IsPositioned => _positioned.Task.IsCompleted;

    /// <summary>Delivers the namespace's entries to <paramref name="adapter"/>, and starts the loop on the first call.</summary>
    public void Register(RedisStreamsAdapter adapter)
    {
        _adapters[adapter.Namespace.Name] = adapter;
        lock (_startLock)
        {
            _loop ??= Task.Run(RunAsync);
        }
    }

    public void Unregister(RedisStreamsAdapter adapter) => _adapters.TryRemove(new KeyValuePair<string, RedisStreamsAdapter>(adapter.Namespace.Name, adapter));

    /// <summary>Completes once the loop knows where to read from.</summary>
    public Task WaitPositionedAsync(CancellationToken cancellationToken) => _positioned.Task.WaitAsync(cancellationToken);

    private async Task RunAsync()
    {
        var token = _stopping.Token;
        var block = ((long)_options.BlockTime.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        var count = _options.ReadCount.ToString(CultureInfo.InvariantCulture);
        while (!token.IsCancellationRequested)
        {
            try
            {
                _multiplexer ??= await ConnectionMultiplexer.ConnectAsync(_configuration).ConfigureAwait(false);
                var database = _multiplexer.GetDatabase();
                if (_lastId is null)
                {
                    var last = await database.ExecuteAsync("XREVRANGE", _stream, "+", "-", "COUNT", "1").ConfigureAwait(false);
                    _lastId = last.Length > 0 ? (string?)last[0][0] ?? "0-0" : "0-0";
                    _startId = _lastId;
                    StreamsLog.Reading(_logger, _options.StreamName, _lastId);
                    _positioned.TrySetResult();
                }
                var result = await database.ExecuteAsync("XREAD", "BLOCK", block, "COUNT", count, "STREAMS", _stream, _lastId).ConfigureAwait(false);
                Dispatch(result);
            }
            catch (Exception e) when (!token.IsCancellationRequested && e is not OutOfMemoryException)
            {
                if (_failures.Tick(out var failed))
                {
                    StreamsLog.ReadFailed(_logger, _options.StreamName, _configuration.ToString(includePassword: false), failed, _lastId ?? "(none yet)", e);
                }
                await Task.Delay(s_retry, token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>XREAD's answer: <c>[[stream, [[id, [field, value, …]], …]]]</c>, or nil when the block ended empty.</summary>
    private void Dispatch(RedisResult result)
    {
        if (result.IsNull || result.Length == 0)
        {
            return;
        }
        var streamEntries = result[0];
        if (streamEntries.Length < 2)
        {
            return;
        }
        var entries = streamEntries[1];
        for (var i = 0; i < entries.Length; i++)
        {
            var entry = entries[i];
            var id = (string?)entry[0];
            if (id is null)
            {
                continue;
            }
            var fields = entry[1];
            string? uid = null, nsp = null, type = null;
            byte[]? data = null;
            for (var f = 0; f + 1 < fields.Length; f += 2)
            {
                switch ((string?)fields[f])
                {
                    case "uid":
                        uid = (string?)fields[f + 1];
                        break;
                    case "nsp":
                        nsp = (string?)fields[f + 1];
                        break;
                    case "type":
                        type = (string?)fields[f + 1];
                        break;
                    case "data":
                        data = (byte[]?)fields[f + 1];
                        break;
                }
            }
            // Upstream skips entries without nsp; entries of namespaces this server does not serve are skipped too.
            if (nsp is not null && uid is not null && type is not null && _adapters.TryGetValue(nsp, out var adapter))
            {
                adapter.OnEntry(id, uid, type, data);
            }
            _lastId = id;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _positioned.TrySetCanceled();
        Task? loop;
        lock (_startLock)
        {
            loop = _loop;
        }
        // Closing the connection ends a read that is blocked in Redis now, instead of waiting for its block to run out.
        if (_multiplexer is { } multiplexer)
        {
            await multiplexer.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        if (loop is not null)
        {
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        if (_multiplexer is { } made)
        {
            await made.DisposeAsync().ConfigureAwait(false);
        }
        _stopping.Dispose();
    }
}

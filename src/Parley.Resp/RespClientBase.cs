using System.Net.Security;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Parley.Resp;

/// <summary>
/// What the command connection and the subscriber share: connecting (TCP, optional TLS, AUTH, SELECT,
/// CLIENT SETNAME), noticing a lost connection, reconnecting with jittered exponential backoff, per-command
/// timeouts, and telling the owner about state changes.
/// <para>
/// While disconnected, commands fail fast with <see cref="RespConnectionException"/> instead of queueing: a queue
/// would grow without bound during a long outage and then replay stale broadcasts and session writes in a burst;
/// a Socket.IO adapter and a session store both prefer an immediate error they can log or surface.
/// </para>
/// <para>
/// A Redis that hangs without closing the socket (a stopped process, a partition, a NAT that forgot the flow) is
/// noticed by a PING every <see cref="RespConnectionOptions.PingInterval"/> on every connection, the subscriber's
/// included: no reply within the command timeout drops the connection and the usual reconnect follows. TCP
/// keepalive covers the idle case at the socket level as well.
/// </para>
/// </summary>
internal abstract class RespClientBase : IAsyncDisposable
{
    private readonly CancellationTokenSource _disposed = new();
    private readonly ITimer _sweeper;
    private RespSession? _session;
    // The session once it is fully up (the subscriber's subscriptions restored); _session is published earlier so
    // the restore and racing (un)subscribes can be sent on it.
    private RespSession? _active;
    private Task? _monitor;
    private Task? _firstConnect;
    private int _connectStarted;
    private readonly Lock _connectedLock = new();
    // Completed when a connection comes up; a waiter that finds it completed while disconnected (a later loss) puts
    // a fresh one in its place. Both under _connectedLock, so a connection that comes up completes the one waited on.
    private TaskCompletionSource _connectedSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private RespRequest? _probe;
    private long _lastProbe;
    private int _sweeping;

    protected RespClientBase(RespConnectionOptions options, ILogger? logger, TimeProvider? timeProvider, string kind)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        Logger = logger ?? NullLogger.Instance;
        Time = timeProvider ?? TimeProvider.System;
        Kind = kind;
        Endpoint = options.ToString();
        var period = TimeSpan.FromTicks(Math.Clamp(options.CommandTimeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerMillisecond * 100));
        _sweeper = Time.CreateTimer(static state => ((RespClientBase)state!).Sweep(), this, period, period);
    }

    /// <summary>Raised (on a background thread) each time a connection is up and ready, including after a reconnect.</summary>
    public event Action? Connected;

    /// <summary>Raised (on a background thread) when the connection is lost; the argument is why.</summary>
    public event Action<Exception>? Disconnected;

    public RespConnectionOptions Options { get; }

    /// <summary>True while a connection is up and ready: handshake answered and, for the subscriber, subscriptions restored.</summary>
    public bool IsConnected => Volatile.Read(ref _active) is { IsClosed: false };

    protected ILogger Logger { get; }

    protected TimeProvider Time { get; }

    protected string Kind { get; }

    protected string Endpoint { get; }

    protected RespSession? Session => Volatile.Read(ref _session);

    /// <summary>
    /// Makes the first connection; throws <see cref="RespConnectionException"/> if it cannot (wrong host, AUTH
    /// refused, timeout). Once connected, losses are repaired in the background until disposal.
    /// </summary>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        if (Interlocked.CompareExchange(ref _connectStarted, 1, 0) != 0)
        {
            throw new InvalidOperationException("ConnectAsync was already called");
        }
        RespSession session;
        try
        {
            session = await OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Volatile.Write(ref _connectStarted, 0);
            throw;
        }
        RaiseConnected();
        Volatile.Write(ref _monitor, Task.Run(() => MonitorAsync(session), CancellationToken.None));
    }

    /// <summary>True once a first connection was made; from then on losses are repaired in the background.</summary>
    public bool HasConnected => Volatile.Read(ref _monitor) is not null;

    /// <summary>
    /// Connects in the background, retrying with backoff until the first connection is up (after that, losses are
    /// repaired by the monitor). Idempotent, and a no-op once <see cref="ConnectAsync"/> has connected; the task
    /// completes once connected, or when the client is disposed. For owners that must start while Redis may still be
    /// down (an adapter, a session store).
    /// </summary>
    public Task StartConnecting()
    {
        var started = Volatile.Read(ref _firstConnect);
        if (started is not null)
        {
            return started;
        }
        if (HasConnected || _disposed.IsCancellationRequested)
        {
            return Task.CompletedTask;
        }
        var loop = new Task<Task>(() => RetryAsync(FirstConnectAsync, TimeSpan.Zero));
        if (Interlocked.CompareExchange(ref _firstConnect, loop.Unwrap(), null) is { } other)
        {
            return other;
        }
        loop.Start(TaskScheduler.Default);
        return _firstConnect!;
    }

    /// <summary>
    /// For owners that connect on first use: starts connecting if nobody has, and waits for the first connection
    /// at most <see cref="RespConnectionOptions.ConnectTimeout"/> (every caller shares the one attempt). Once a
    /// connection was made it returns at once: commands then fail fast while a lost connection is repaired.
    /// </summary>
    public async ValueTask EnsureConnectedAsync(CancellationToken cancellationToken = default)
    {
        if (HasConnected)
        {
            return;
        }
        try
        {
            await StartConnecting().WaitAsync(Options.ConnectTimeout, Time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw NotConnected();
        }
        if (!HasConnected)
        {
            throw NotConnected(); // disposed meanwhile
        }
    }

    /// <summary>
    /// One attempt at the first connection; done at once when a caller's own <see cref="ConnectAsync"/> made it
    /// meanwhile (one that is still under way fails this attempt with "already called", and the next one stops here).
    /// </summary>
    private Task FirstConnectAsync() => HasConnected ? Task.CompletedTask : ConnectAsync(_disposed.Token);

    /// <summary>Completes when connected (now or after a reconnect); for owners that want to wait out an outage.</summary>
    public Task WaitForConnectedAsync(CancellationToken cancellationToken = default)
    {
        Task connected;
        lock (_connectedLock)
        {
            if (IsConnected)
            {
                return Task.CompletedTask;
            }
            if (_disposed.IsCancellationRequested)
            {
                return Task.FromException(new ObjectDisposedException(GetType().FullName));
            }
            if (_connectedSignal.Task.IsCompleted)
            {
                _connectedSignal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            connected = _connectedSignal.Task;
        }
        return connected.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }
        _disposed.Cancel();
        _sweeper.Dispose();
        Volatile.Read(ref _session)?.Fail(new RespConnectionException($"the {Kind} connection was disposed"));
        // The first-connection loop reads _disposed until it ends, and may start the monitor as it does: wait for it
        // before the monitor, and both before _disposed goes.
        if (Volatile.Read(ref _firstConnect) is { } firstConnect)
        {
            await firstConnect.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        if (Volatile.Read(ref _monitor) is { } monitor)
        {
            await monitor.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        lock (_connectedLock)
        {
            _connectedSignal.TrySetException(new ObjectDisposedException(GetType().FullName));
        }
        _disposed.Dispose();
    }

    /// <summary>Commands owed a reply and unsent bytes of the current connection; zeros while disconnected.</summary>
    internal (int Pending, long QueuedBytes) QueueState => Session?.QueueState ?? default;

    /// <summary>Queues a request on the current session, or fails it fast when there is none or its queue is full.</summary>
    protected Task<RespValue> Send(RespSession? session, RespRequest request)
    {
        var result = session?.TryEnqueue(request) ?? EnqueueResult.Closed;
        if (result == EnqueueResult.Queued)
        {
            return request.Task;
        }
        request.ReleaseBuffer();
        return Task.FromException<RespValue>(result == EnqueueResult.Full ? session!.QueueFull() : NotConnected());
    }

    protected RespRequest NewRequest(string command, int expectedReplies = 1, bool probe = false) =>
        new(command, expectedReplies, Time.GetTimestamp() + TimeoutTicks) { IsProbe = probe };

    private long TimeoutTicks => (long)(Options.CommandTimeout.TotalSeconds * Time.TimestampFrequency);

    protected RespConnectionException NotConnected() =>
        _disposed.IsCancellationRequested
            ? new RespConnectionException($"the {Kind} connection to {Endpoint} is disposed")
            : new RespConnectionException($"the {Kind} connection to {Endpoint} is down; commands fail fast until it is back");

    /// <summary>Decodes pub/sub pushes for the subscriber; null for the command connection.</summary>
    protected virtual Func<RespValue, bool>? PushHandler => null;

    /// <summary>
    /// Makes the session visible to callers. The subscriber overrides it to publish under its subscription lock and
    /// then restore its subscriptions before the connection counts as up.
    /// </summary>
    protected virtual Task ActivateAsync(RespSession session, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _session, session);
        return Task.CompletedTask;
    }

    protected void Publish(RespSession session) => Volatile.Write(ref _session, session);

    private async Task<RespSession> OpenAsync(CancellationToken cancellationToken)
    {
        Logger.Connecting(Kind, Endpoint);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed.Token);
        cts.CancelAfter(Options.ConnectTimeout);
        Stream? stream = null;
        RespSession? session = null;
        try
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            EnableKeepAlive(socket);
            try
            {
                await socket.ConnectAsync(Options.Host, Options.Port, cts.Token).ConfigureAwait(false);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            stream = new NetworkStream(socket, ownsSocket: true);
            if (Options.UseTls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = Options.Host,
                    RemoteCertificateValidationCallback = Options.CertificateValidation,
                }, cts.Token).ConfigureAwait(false);
            }
            session = new RespSession(stream, Logger, Endpoint, PushHandler, Options.MaxPendingCommands, Options.MaxQueuedBytes);
            session.Start();
            await HandshakeAsync(session).WaitAsync(cts.Token).ConfigureAwait(false);
            await ActivateAsync(session, cts.Token).ConfigureAwait(false);
            Volatile.Write(ref _active, session);
            Logger.Connected(Kind, Endpoint);
            return session;
        }
        catch (Exception e)
        {
            var error = e switch
            {
                RespConnectionException c => c,
                OperationCanceledException when _disposed.IsCancellationRequested => new RespConnectionException($"the {Kind} connection was disposed", e),
                OperationCanceledException when !cancellationToken.IsCancellationRequested =>
                    new RespConnectionException($"connecting to {Endpoint} took longer than {Options.ConnectTimeout}", e),
                _ => new RespConnectionException($"connecting to {Endpoint} failed: {e.Message}", e),
            };
            if (session is not null)
            {
                session.Fail(error);
            }
            else if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
            if (Volatile.Read(ref _session) == session)
            {
                Volatile.Write(ref _session, null);
            }
            if (e is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            throw error;
        }
    }

    /// <summary>
    /// node-redis' default (<c>socket.keepAlive</c> 5000, which libuv pairs with 1 s probes, 10 of them): an idle
    /// connection whose peer vanished without a reset is noticed in about 15 s even between PINGs.
    /// </summary>
    private void EnableKeepAlive(Socket socket)
    {
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 5);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 1);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 10);
        }
        catch (Exception e) when (e is SocketException or PlatformNotSupportedException)
        {
            Logger.KeepAliveUnsupported(Endpoint, e);
        }
    }

    /// <summary>
    /// AUTH, SELECT and CLIENT SETNAME when configured, and always a PING: the kernel completes a TCP connect to a
    /// stopped Redis on its own, so only a reply proves the server is there before the connection counts as up.
    /// </summary>
    private Task HandshakeAsync(RespSession session)
    {
        var steps = new List<Task>(4);
        if (Options.Password is not null)
        {
            var auth = NewRequest("AUTH");
            if (Options.User is not null)
            {
                RespWriter.WriteCommand(auth, "AUTH", [Options.User, Options.Password]);
            }
            else
            {
                RespWriter.WriteCommand(auth, "AUTH", [Options.Password]);
            }
            steps.Add(Send(session, auth));
        }
        if (Options.Database != 0)
        {
            var select = NewRequest("SELECT");
            RespWriter.WriteCommand(select, "SELECT", [Options.Database]);
            steps.Add(Send(session, select));
        }
        if (Options.ClientName is not null)
        {
            var name = NewRequest("CLIENT SETNAME");
            RespWriter.WriteCommand(name, "CLIENT", ["SETNAME", Options.ClientName]);
            steps.Add(Send(session, name));
        }
        var ping = NewRequest("PING");
        RespWriter.WriteCommand(ping, "PING", []);
        steps.Add(AnsweredAsync(Send(session, ping)));
        return Task.WhenAll(steps);
    }

    /// <summary>Any reply proves the server is there: an error such as NOAUTH is for the commands that follow to report.</summary>
    private static async Task AnsweredAsync(Task<RespValue> reply)
    {
        try
        {
            await reply.ConfigureAwait(false);
        }
        catch (RespServerException)
        {
        }
    }

    /// <summary>Waits for the session to fail, then reconnects until disposal; never lets an exception escape.</summary>
    private async Task MonitorAsync(RespSession session)
    {
        try
        {
            while (true)
            {
                Exception reason;
                // DisposeAsync fails the session it sees; one published just after it looked (a reconnect finishing
                // as it runs) is failed here instead, or this loop, and DisposeAsync awaiting it, would wait forever.
                using (_disposed.Token.UnsafeRegister(FailOnDispose, (this, session)))
                {
                    reason = await session.Completion.ConfigureAwait(false);
                }
                Interlocked.CompareExchange(ref _session, null, session);
                if (_disposed.IsCancellationRequested)
                {
                    return;
                }
                Logger.ConnectionLost(Kind, Endpoint, reason);
                RaiseDisconnected(reason);
                var next = await ReconnectAsync().ConfigureAwait(false);
                if (next is null)
                {
                    return;
                }
                session = next;
                RaiseConnected();
            }
        }
        catch (Exception e)
        {
            Logger.LoopFailed(Kind, e);
        }
    }

    private static void FailOnDispose(object? state)
    {
        var (self, session) = ((RespClientBase, RespSession))state!;
        session.Fail(new RespConnectionException($"the {self.Kind} connection was disposed"));
    }

    private async Task<RespSession?> ReconnectAsync()
    {
        RespSession? session = null;
        var connected = await RetryAsync(async () => session = await OpenAsync(_disposed.Token).ConfigureAwait(false), Backoff(1)).ConfigureAwait(false);
        return connected ? session : null;
    }

    /// <summary>
    /// The one retry loop of the first connection and of every reconnect: waits <paramref name="delay"/>, tries
    /// <paramref name="attempt"/>, and after a failure logs the next delay and waits exactly that (one jittered
    /// <see cref="Backoff"/> per failure). False once the client is disposed.
    /// </summary>
    private async Task<bool> RetryAsync(Func<Task> attempt, TimeSpan delay)
    {
        for (var n = 1; ; n++)
        {
            try
            {
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, Time, _disposed.Token).ConfigureAwait(false);
                }
                await attempt().ConfigureAwait(false);
                return true;
            }
            catch (Exception) when (_disposed.IsCancellationRequested)
            {
                return false;
            }
            catch (Exception e)
            {
                delay = Backoff(n + 1);
                Logger.ReconnectFailed(Kind, Endpoint, n, delay, e);
            }
        }
    }

    /// <summary>50 ms doubling to a 2 s cap (by default), with "equal jitter": half fixed, half random.</summary>
    internal TimeSpan Backoff(int attempt)
    {
        var min = Options.ReconnectMinDelay.Ticks;
        var max = Options.ReconnectMaxDelay.Ticks;
        var exponential = attempt >= 30 ? max : Math.Min(max, min << Math.Max(0, attempt - 1));
        return TimeSpan.FromTicks((exponential / 2) + (long)(Random.Shared.NextDouble() * (exponential / 2)));
    }

    private void Sweep()
    {
        // Timer callbacks may overlap on a busy thread pool; one sweep at a time keeps the probe state simple.
        if (Interlocked.Exchange(ref _sweeping, 1) == 1)
        {
            return;
        }
        try
        {
            var session = Volatile.Read(ref _session);
            if (session is null)
            {
                return;
            }
            var now = Time.GetTimestamp();
            session.ExpireTimedOut(now, Options.CommandTimeout, TimeoutTicks);
            Probe(session, now);
        }
        catch (Exception e)
        {
            Logger.LoopFailed(Kind, e);
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    /// <summary>
    /// One keepalive PING in flight at a time, every PingInterval. A subscriber may PING in subscribed mode (RESP2
    /// answers <c>["pong", ""]</c>, which the FIFO matches like any reply).
    /// </summary>
    private void Probe(RespSession session, long now)
    {
        var interval = Options.PingInterval;
        if (interval <= TimeSpan.Zero || session.IsClosed || _probe is { Task.IsCompleted: false })
        {
            return;
        }
        if (Time.GetElapsedTime(_lastProbe, now) < interval)
        {
            return;
        }
        _lastProbe = now;
        var probe = NewRequest("PING", probe: true);
        RespWriter.WriteCommand(probe, "PING", []);
        _probe = probe;
        // Its failure is the session's failure, reported by the monitor; nothing to observe here.
        _ = Send(session, probe).ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void RaiseConnected()
    {
        lock (_connectedLock)
        {
            _connectedSignal.TrySetResult();
        }
        try
        {
            Connected?.Invoke();
        }
        catch (Exception e)
        {
            Logger.StateHandlerFailed(e);
        }
    }

    private void RaiseDisconnected(Exception reason)
    {
        try
        {
            Disconnected?.Invoke(reason);
        }
        catch (Exception e)
        {
            Logger.StateHandlerFailed(e);
        }
    }
}

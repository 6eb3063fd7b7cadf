using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Parley.Adapters;
using Parley.Diagnostics;
using Parley.EngineIO;

namespace Parley;

/// <summary>
/// The Socket.IO server (socket.io's <c>Server</c>, the <c>io</c> object): namespaces, and shortcuts to the main
/// namespace <c>/</c>. Obtained from DI after <c>services.AddParley()</c>, or in <c>app.MapParley(path, io => …)</c>.
/// </summary>
public sealed class ParleyServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Namespace> _namespaces = new(StringComparer.Ordinal);
    private readonly Lock _parentsLock = new();
    private ParentNamespace[] _parents = [];
    private readonly Func<Namespace, ParleyAdapter> _adapterFactory;
    private EngineServer? _engine;
    private IHandshakeRedactor[]? _handshakeRedactors;
    private int _disposed;

    /// <summary>Creates a server; normally done by <c>AddParley</c>.</summary>
    public ParleyServer(ParleyOptions options, ILoggerFactory loggerFactory, TimeProvider? time = null, Func<Namespace, ParleyAdapter>? adapterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        Options = options;
        Logger = loggerFactory.CreateLogger("Parley");
        LoggerFactory = loggerFactory;
        Time = time ?? TimeProvider.System;
        HandlerFaults = new(Time, Diagnostics.HandlerFaultThrottle.Interval);
        ClientFaultLines = new(Time, TimeSpan.FromSeconds(1));
        WireOptions = options.CreateWireSerializerOptions();
        _adapterFactory = adapterFactory ?? (static nsp => new InMemoryAdapter(nsp));
    }

    /// <summary>The options in force.</summary>
    public ParleyOptions Options { get; }

    /// <summary>The application's services (set when created by <c>AddParley</c>); add-ons resolve theirs here.</summary>
    public IServiceProvider? Services { get; init; }

    /// <summary>
    /// The registered <see cref="IHandshakeRedactor"/>s, resolved from <see cref="Services"/> once, at the first
    /// <see cref="ParleySocket.SharedHandshake"/> read rather than in the constructor: a redactor may depend on
    /// services that depend on this server. Two first reads may race; both get the same singletons.
    /// </summary>
    internal IHandshakeRedactor[] HandshakeRedactors =>
        _handshakeRedactors ??= Services?.GetService<IEnumerable<IHandshakeRedactor>>() is { } redactors ? [.. redactors] : [];

    internal ILogger Logger { get; }

    /// <summary>Where this server records its instruments: the host's <c>Parley</c> meter (set by <c>AddParley</c>).</summary>
    internal ParleyMetrics Metrics { get; init; } = ParleyMetrics.Shared;

    internal ILoggerFactory LoggerFactory { get; }

    internal TimeProvider Time { get; }

    /// <summary>Application handlers' failures, logged with their stack once a minute per event name.</summary>
    internal Diagnostics.HandlerFaultThrottle HandlerFaults { get; }

    /// <summary>First faults of connections: at most one line a second server-wide, whatever the churn.</summary>
    internal Diagnostics.HandlerFaultThrottle ClientFaultLines { get; }

    /// <summary>The serializer options used on the wire (the configured ones plus binary attachments).</summary>
    public JsonSerializerOptions WireOptions { get; }

    /// <summary>The Engine.IO server once mapped.</summary>
    public EngineServer Engine => _engine ?? throw new InvalidOperationException("The server is not mapped yet: call app.MapParley().");

    /// <summary>The main namespace <c>/</c> (socket.io's <c>io.sockets</c>).</summary>
    public Namespace Sockets => Of("/");

    /// <summary>Raised when a namespace is created.</summary>
    public event Action<Namespace>? NamespaceCreated;

    /// <summary>The namespace <paramref name="name"/>, created on first use.</summary>
    public Namespace Of(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 || name[0] != '/')
        {
            name = "/" + name;
        }
        if (_namespaces.TryGetValue(name, out var existing))
        {
            return existing;
        }
        // Under a race GetOrAdd may run the factory on several threads; only the instance it kept is initialised
        // (the others' adapters were never started and cost nothing).
        Namespace? candidate = null;
        var nsp = _namespaces.GetOrAdd(name, n => candidate = new Namespace(this, n));
        if (ReferenceEquals(nsp, candidate))
        {
            Initialize(nsp);
        }
        return nsp;
    }

    /// <summary>
    /// A dynamic namespace: any name matching <paramref name="pattern"/> gets a child namespace. A pattern without
    /// a match timeout gets <see cref="NamespaceMatchTimeout"/>: names come from clients, and a backtracking pattern
    /// must not let one CONNECT hold a thread for minutes. A match that times out answers that client with a
    /// connect_error.
    /// </summary>
    public ParentNamespace Of(Regex pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var matcher = pattern.MatchTimeout == Regex.InfiniteMatchTimeout ? new Regex(pattern.ToString(), pattern.Options, NamespaceMatchTimeout) : pattern;
        return AddParent(pattern.ToString(), (name, _) => ValueTask.FromResult(matcher.IsMatch(name)));
    }

    /// <summary>The match timeout given to dynamic-namespace patterns that have none (1 s).</summary>
    public static readonly TimeSpan NamespaceMatchTimeout = TimeSpan.FromSeconds(1);

    /// <summary>A dynamic namespace: any name (with the CONNECT auth) the predicate accepts gets a child namespace.</summary>
    public ParentNamespace Of(Func<string, JsonElement?, ValueTask<bool>> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        return AddParent("dynamic", predicate);
    }

    private ParentNamespace AddParent(string displayName, Func<string, JsonElement?, ValueTask<bool>> matcher)
    {
        var parent = new ParentNamespace(this, "/_" + displayName, matcher);
        lock (_parentsLock)
        {
            _parents = [.. _parents, parent];
        }
        return parent;
    }

    internal async ValueTask<Namespace?> ResolveNamespaceAsync(string name, JsonElement? auth)
    {
        if (_namespaces.TryGetValue(name, out var nsp))
        {
            return nsp;
        }
        foreach (var parent in _parents)
        {
            if (await parent.MatchesAsync(name, auth))
            {
                return parent.CreateChild(name);
            }
        }
        return null;
    }

    internal Namespace RegisterChild(string name, ParentNamespace parent)
    {
        var child = new Namespace(this, name, parent);
        _namespaces[name] = child;
        Initialize(child);
        return child;
    }

    /// <summary>
    /// Forgets a child namespace that lost its last socket (CleanupEmptyChildNamespaces) and disposes its adapter,
    /// whose subscriptions (a cluster adapter's channels for that name) would otherwise outlive it.
    /// </summary>
    internal void UnregisterChild(Namespace child)
    {
        if (_namespaces.TryRemove(new KeyValuePair<string, Namespace>(child.Name, child)))
        {
            _ = DisposeAdapterAsync(child);
        }
    }

    private void Initialize(Namespace nsp)
    {
        _ = InitAdapterAsync(nsp);
        NamespaceCreated?.Invoke(nsp);
    }

    private async Task InitAdapterAsync(Namespace nsp)
    {
        try
        {
            await nsp.Adapter.InitAsync();
        }
        catch (Exception ex)
        {
            SocketLog.ServerHandlerFailed(Logger, nsp.Name, "adapter init", ex);
        }
    }

    private async Task DisposeAdapterAsync(Namespace nsp)
    {
        try
        {
            await nsp.Adapter.DisposeAsync();
        }
        catch (Exception ex)
        {
            SocketLog.ServerHandlerFailed(Logger, nsp.Name, "adapter dispose", ex);
        }
    }

    internal ParleyAdapter CreateAdapter(Namespace nsp) => _adapterFactory(nsp);

    /// <summary>The namespaces created so far.</summary>
    public IReadOnlyCollection<Namespace> Namespaces => [.. _namespaces.Values];

    // ---- main-namespace shortcuts (socket.io's io.use, io.on("connection"), io.to, io.emit…) ----

    /// <summary>Adds a connection middleware to <c>/</c>.</summary>
    public ParleyServer Use(Func<ParleySocket, Func<Task>, Task> middleware)
    {
        Sockets.Use(middleware);
        return this;
    }

    /// <summary>Handles connections to <c>/</c>.</summary>
    public ParleyServer OnConnection(Func<ParleySocket, Task> handler)
    {
        Sockets.OnConnection(handler);
        return this;
    }

    /// <summary>Handles connections to <c>/</c>.</summary>
    public ParleyServer OnConnection(Action<ParleySocket> handler)
    {
        Sockets.OnConnection(handler);
        return this;
    }

    /// <summary>Handles events from other nodes on <c>/</c>.</summary>
    public ParleyServer On(string eventName, Func<SocketEvent, Task> handler)
    {
        Sockets.On(eventName, handler);
        return this;
    }

    /// <summary>A broadcast to a room of <c>/</c>.</summary>
    public BroadcastOperator To(string room) => Sockets.To(room);

    /// <summary>A broadcast to rooms of <c>/</c>.</summary>
    public BroadcastOperator To(IEnumerable<string> rooms) => Sockets.To(rooms);

    /// <summary>Same as <see cref="To(string)"/>.</summary>
    public BroadcastOperator In(string room) => Sockets.To(room);

    /// <summary>A broadcast to <c>/</c> leaving a room out.</summary>
    public BroadcastOperator Except(string room) => Sockets.Except(room);

    /// <summary>A broadcast to this node only.</summary>
    public BroadcastOperator Local => Sockets.Local;

    /// <summary>A volatile broadcast.</summary>
    public BroadcastOperator Volatile => Sockets.Volatile;

    /// <summary>A broadcast with the compress flag.</summary>
    public BroadcastOperator Compress(bool compress) => Sockets.Compress(compress);

    /// <summary>A broadcast whose acknowledgements time out.</summary>
    public BroadcastOperator Timeout(TimeSpan timeout) => Sockets.Timeout(timeout);

    /// <summary>Emits to every socket of <c>/</c>.</summary>
    public Task EmitAsync(string eventName, params object?[] args) => Sockets.EmitAsync(eventName, args);

    /// <summary>Every socket of <c>/</c> on every node.</summary>
    public Task<IReadOnlyList<RemoteSocket>> FetchSocketsAsync() => Sockets.FetchSocketsAsync();

    /// <summary>Makes every socket of <c>/</c> join rooms.</summary>
    public Task SocketsJoinAsync(params string[] rooms) => Sockets.SocketsJoinAsync(rooms);

    /// <summary>Makes every socket of <c>/</c> leave rooms.</summary>
    public Task SocketsLeaveAsync(params string[] rooms) => Sockets.SocketsLeaveAsync(rooms);

    /// <summary>Disconnects every socket of <c>/</c>.</summary>
    public Task DisconnectSocketsAsync(bool close = false) => Sockets.DisconnectSocketsAsync(close);

    /// <summary>Sends an event to the other nodes.</summary>
    public Task ServerSideEmitAsync(string eventName, params object?[] args) => Sockets.ServerSideEmitAsync(eventName, args);

    /// <summary>Sends an event to the other nodes and collects their acknowledgements.</summary>
    public Task<IReadOnlyList<JsonElement>> ServerSideEmitWithAckAsync(string eventName, object?[] args, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Sockets.ServerSideEmitWithAckAsync(eventName, args, timeout, cancellationToken);

    // ---- hosting ----

    internal EngineServer Attach()
    {
        if (_engine is not null)
        {
            throw new InvalidOperationException("MapParley was called twice for the same server.");
        }
        _engine = new EngineServer(Options.Engine, LoggerFactory.CreateLogger("Parley.EngineIO"), c => _ = new SocketClient(this, c), Time) { Metrics = Metrics };
        Metrics.Observe(this);
        return _engine;
    }

    /// <summary>Disconnects every socket (reason <c>server shutting down</c>) and stops the adapters; once.</summary>
    public async ValueTask DisposeAsync()
    {
        // The host stops the server, then the container disposes the singleton: the second call has nothing to do.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        foreach (var nsp in _namespaces.Values)
        {
            foreach (var socket in nsp.SocketsById.Values)
            {
                socket.OnClose(DisconnectReasons.ServerShuttingDown);
            }
        }
        _engine?.CloseAll();
        Metrics.Forget(this);
        foreach (var nsp in _namespaces.Values)
        {
            await nsp.Adapter.DisposeAsync();
        }
    }
}

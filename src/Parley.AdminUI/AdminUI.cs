using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Parley.Adapters;
using Parley.Diagnostics;
using Parley.EngineIO;
using Parley.Internal;

namespace Parley.AdminUI;

/// <summary>
/// The server side of the official Socket.IO Admin UI (@socket.io/admin-ui 0.5.x, lib/index.ts <c>instrument</c>) on a
/// Parley server: the <c>/admin</c> namespace with basic authentication, <c>config</c>, <c>all_sockets</c>,
/// <c>server_stats</c> every 2 s, <c>socket_connected</c>/<c>socket_updated</c>/<c>socket_disconnected</c>,
/// <c>room_joined</c>/<c>room_left</c>, and the UI's operations <c>emit</c>, <c>join</c>, <c>leave</c> and
/// <c>_disconnect</c> unless read-only.
/// </summary>
/// <remarks>
/// Cluster-wide as upstream is: every event is a broadcast on the admin namespace, so the cluster adapter carries it
/// to the UIs connected to any node (a Node node running admin-ui included: the events and their arguments are the
/// same); <c>all_sockets</c> is a <c>fetchSockets</c> of every namespace; operations are broadcast-operator calls.
/// Each socket's <c>data._admin</c> holds <c>{clientId, transport}</c> as upstream puts it there, so a Node node that
/// fetches this node's sockets shows them right. Not implemented: <c>event_received</c>/<c>event_sent</c>
/// (upstream's development-only ALL_EVENTS). <c>socket_updated</c> follows assignments to keys of
/// <c>socket.Data</c>; upstream's proxy also sees assignments inside stored objects, which a dictionary cannot.
/// </remarks>
public sealed partial class AdminUI : IAsyncDisposable
{
    private readonly ParleyServer _io;
    private readonly AdminUIOptions _options;
    private readonly Namespace _admin;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, byte> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Namespace, byte> _instrumented = new();
    private readonly string[] _features;
    private readonly string _serverId;
    private readonly AdminUIEventBuffer? _events;
    private readonly ITimer _statsTimer;
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly TimeProvider _time;
    private readonly SignInThrottle _signIns;
    private int _disposed;

    internal AdminUI(ParleyServer io, AdminUIOptions options)
    {
        _io = io;
        _options = options;
        _logger = io.Services?.GetService<ILoggerFactory>()?.CreateLogger("Parley.AdminUI") ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _serverId = options.ServerId ?? DefaultServerId();
        _time = io.Services?.GetService<TimeProvider>() ?? TimeProvider.System;
        _signIns = new SignInThrottle(options.MaxFailedSignIns, options.FailedSignInWindow, _time);
        // lib/index.ts detectSupportedFeatures: Socket.IO v4 supports all of them; read-only mode none of the actions.
        _features = options.ReadOnly
            ? ["AGGREGATED_EVENTS"]
            : ["EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS"];
        if (io.Services?.GetService<ParleyMetrics>() is { } metrics)
        {
            _events = new AdminUIEventBuffer(metrics.Meter);
        }

        _admin = io.Of(options.NamespaceName);
        if (!options.AllowAnonymous)
        {
            _admin.Use(AuthenticateAsync);
        }
        else
        {
            Log.AnonymousAccess(_logger, options.NamespaceName);
        }
        _admin.OnConnection(OnAdminConnectedAsync);

        io.NamespaceCreated += Instrument;
        foreach (var nsp in io.Namespaces)
        {
            Instrument(nsp);
        }
        _statsTimer = _time.CreateTimer(static s => ((AdminUI)s!).EmitStats(), this, TimeSpan.Zero, options.StatsInterval);
    }

    private static int s_instances;

    /// <summary>
    /// host#pid, as upstream names a cluster worker (lib/index.ts computeServerId): the UI merges the stats of equal
    /// ids, so nodes on one host need the pid, and servers in one process (tests) a number as well.
    /// </summary>
    private static string DefaultServerId()
    {
        var n = Interlocked.Increment(ref s_instances);
        var id = Environment.MachineName + "#" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return n == 1 ? id : id + "/" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The admin namespace.</summary>
    public Namespace Namespace => _admin;

    // ---- authentication (lib/index.ts initAuthenticationMiddleware) ----

    private Task AuthenticateAsync(ParleySocket socket, Func<Task> next)
    {
        var auth = socket.Handshake.Auth;
        if (auth.ValueKind == JsonValueKind.Object)
        {
            if (auth.TryGetProperty("sessionId", out var sid) && sid.ValueKind == JsonValueKind.String && _sessions.ContainsKey(sid.GetString()!))
            {
                return next();
            }
            if (_signIns.IsBlocked(socket.Handshake.Address))
            {
                Log.TooManySignIns(_logger, socket.Handshake.Address, socket.ConnectionId);
                throw new ParleyConnectionRefusedException("too many attempts, retry later");
            }
            var username = auth.TryGetProperty("username", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
            var password = auth.TryGetProperty("password", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
            // The hash is checked even for a wrong user name, so the answer takes as long either way.
            var matches = AdminUIPassword.Verify(password ?? "", _options.PasswordHash!);
            if (AdminUIPassword.SameUser(username, _options.Username!) && matches)
            {
                var sessionId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
                _sessions[sessionId] = 0;
                _signIns.Succeeded(socket.Handshake.Address);
                socket.Items[typeof(AdminUI)] = sessionId;
                return next();
            }
        }
        _signIns.Failed(socket.Handshake.Address);
        Log.InvalidCredentials(_logger, socket.ConnectionId);
        throw new ParleyConnectionRefusedException("invalid credentials");
    }

    private async Task OnAdminConnectedAsync(ParleySocket socket)
    {
        if (socket.Items.TryGetValue(typeof(AdminUI), out var sessionId))
        {
            await socket.EmitAsync("session", sessionId);
        }
        if (!_options.ReadOnly)
        {
            RegisterOperations(socket);
        }
        await socket.EmitAsync("config", new JsonObject { ["supportedFeatures"] = new JsonArray([.. _features.Select(f => JsonValue.Create(f))]) });
        await socket.EmitAsync("all_sockets", await FetchAllSocketsAsync());
    }

    // ---- operations (lib/index.ts registerFeatureHandlers, Socket.IO v4 branches) ----

    private void RegisterOperations(ParleySocket socket)
    {
        socket.On("emit", e =>
        {
            var args = e.ArgumentsForEmit();
            if (args.Length < 3 || Target(e, 0) is not { } nsp || StringArg(e, 2) is not { Length: > 0 } name)
            {
                return Task.CompletedTask;
            }
            var filter = StringArg(e, 1);
            Log.Operation(_logger, "emit " + name, nsp.Name, filter);
            var target = Select(nsp, filter);
            return target.EmitAsync(name, args[3..]);
        });
        socket.On("join", e => Rooms(e, "join", static (target, room) => target.SocketsJoinAsync(room)));
        socket.On("leave", e => Rooms(e, "leave", static (target, room) => target.SocketsLeaveAsync(room)));
        socket.On("_disconnect", e =>
        {
            if (Target(e, 0) is not { } nsp)
            {
                return Task.CompletedTask;
            }
            var close = e.Arguments.Count > 1 && e.Arguments[1].Element.ValueKind == JsonValueKind.True;
            var filter = StringArg(e, 2);
            Log.Operation(_logger, "disconnect", nsp.Name, filter);
            return Select(nsp, filter).DisconnectSocketsAsync(close);
        });
    }

    private Task Rooms(SocketEvent e, string what, Func<BroadcastOperator, string, Task> act)
    {
        if (Target(e, 0) is not { } nsp || StringArg(e, 1) is not { Length: > 0 } room)
        {
            return Task.CompletedTask;
        }
        var filter = StringArg(e, 2);
        Log.Operation(_logger, what + " " + room, nsp.Name, filter);
        return act(Select(nsp, filter), room);
    }

    /// <summary>The sockets an operation acts on: those in room <paramref name="filter"/> (a socket id for one socket), or all.</summary>
    private static BroadcastOperator Select(Namespace nsp, string? filter) =>
        string.IsNullOrEmpty(filter) ? nsp.To(Array.Empty<string>()) : nsp.In(filter);

    /// <summary>
    /// The namespace an operation names, if it exists. Upstream calls <c>io.of(nsp)</c>, which would create any
    /// namespace the UI names; acting on existing ones only is enough for what the UI sends.
    /// </summary>
    private Namespace? Target(SocketEvent e, int index) =>
        StringArg(e, index) is { } name ? _io.Namespaces.FirstOrDefault(n => n.Name == name) : null;

    /// <summary>Argument <paramref name="index"/> when it is a string; null when missing or of another type (the UI sends undefined filters).</summary>
    private static string? StringArg(SocketEvent e, int index) =>
        index < e.Arguments.Count && e.Arguments[index].Element.ValueKind == JsonValueKind.String ? e.Arguments[index].Element.GetString() : null;

    // ---- what the UI is told (lib/index.ts registerVerboseListeners, initStatsEmitter) ----

    private void Instrument(Namespace nsp)
    {
        if (nsp is ParentNamespace || !_instrumented.TryAdd(nsp, 0))
        {
            return;
        }
        nsp.OnConnection(socket =>
        {
            socket.Data["_admin"] = AdminData(socket.ConnectionId, socket.Transport);
            Emit("socket_connected", Serialize(socket), Now());
            if (socket.Transport == EngineTransport.Polling && _io.Engine.TryGetConnection(socket.ConnectionId, out var connection))
            {
                connection.Upgraded += _ =>
                {
                    socket.Data["_admin"] = AdminData(socket.ConnectionId, EngineTransport.WebSocket);
                    Emit("socket_updated", new JsonObject { ["id"] = socket.Id, ["nsp"] = nsp.Name, ["transport"] = "websocket" });
                };
            }
            // Upstream proxies socket.data and reports every assignment; _admin changes are reported by the upgrade
            // handler above, with the transport.
            socket.Data.Changed += key =>
            {
                if (key != "_admin")
                {
                    Emit("socket_updated", new JsonObject { ["id"] = socket.Id, ["nsp"] = nsp.Name, ["data"] = SerializeData(socket) });
                }
            };
            socket.Disconnected += (s, reason) => Emit("socket_disconnected", nsp.Name, s.Id, reason, Now());
        });
        nsp.Adapter.RoomJoined += (room, id) => Emit("room_joined", nsp.Name, room, id, Now());
        nsp.Adapter.RoomLeft += (room, id) => Emit("room_left", nsp.Name, room, id, Now());
    }

    private void EmitStats()
    {
        try
        {
            var namespaces = new JsonArray();
            foreach (var nsp in _io.Namespaces)
            {
                if (nsp is not ParentNamespace)
                {
                    namespaces.Add(new JsonObject { ["name"] = nsp.Name, ["socketsCount"] = nsp.Sockets.Count });
                }
            }
            var engine = _io.Engine;
            var polling = 0;
            foreach (var connection in engine.Connections)
            {
                if (connection.Transport == EngineTransport.Polling)
                {
                    polling++;
                }
            }
            Emit("server_stats", new JsonObject
            {
                ["serverId"] = _serverId,
                ["hostname"] = Environment.MachineName,
                ["pid"] = Environment.ProcessId,
                ["uptime"] = Stopwatch.GetElapsedTime(_started).TotalSeconds,
                ["clientsCount"] = engine.ClientsCount,
                ["pollingClientsCount"] = polling,
                ["aggregatedEvents"] = _events?.TakeAll() ?? [],
                ["namespaces"] = namespaces,
            });
        }
        catch (InvalidOperationException)
        {
            // Not mapped yet: no engine, nothing to report.
        }
    }

    private void Emit(string name, params object?[] args)
    {
        if (Volatile.Read(ref _disposed) == 1)
        {
            return;
        }
        _ = EmitAsync(name, args);
    }

    private async Task EmitAsync(string name, object?[] args)
    {
        try
        {
            await _admin.EmitAsync(name, args).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.EmitFailed(_logger, name, ex);
        }
    }

    /// <summary>Every namespace's sockets on every node (lib/index.ts fetchAllSockets).</summary>
    private async Task<JsonArray> FetchAllSocketsAsync()
    {
        var all = new JsonArray();
        foreach (var nsp in _io.Namespaces)
        {
            if (nsp is ParentNamespace)
            {
                continue;
            }
            IReadOnlyList<RemoteSocket> sockets;
            try
            {
                sockets = await nsp.FetchSocketsAsync().ConfigureAwait(false);
            }
            catch (TimeoutException ex)
            {
                // Some node did not answer in time: show what answered rather than nothing.
                Log.FetchFailed(_logger, nsp.Name, ex);
                foreach (var local in nsp.Sockets.Values)
                {
                    all.Add(Serialize(local));
                }
                continue;
            }
            foreach (var socket in sockets)
            {
                all.Add(socket.LocalSocket is { } local ? Serialize(local) : Serialize(socket, nsp.Name));
            }
        }
        return all;
    }

    private static JsonObject AdminData(string connectionId, EngineTransport transport) => new()
    {
        // lib/index.ts: "clientId.substring(0, 12), // this information is quite sensitive"
        ["clientId"] = connectionId[..Math.Min(12, connectionId.Length)],
        ["transport"] = transport == EngineTransport.WebSocket ? "websocket" : "polling",
    };

    /// <summary>lib/index.ts serialize, for a socket of this node.</summary>
    private JsonObject Serialize(ParleySocket socket)
    {
        var admin = AdminData(socket.ConnectionId, socket.Transport);
        return Serialized(socket.Id, admin["clientId"]!.GetValue<string>(), admin["transport"]!.GetValue<string>(), socket.Namespace.Name, SerializeData(socket), socket.Handshake, socket.Rooms);
    }

    /// <summary>lib/index.ts serializeData: the socket's data without <c>_admin</c>.</summary>
    private JsonObject SerializeData(ParleySocket socket)
    {
        var data = new JsonObject();
        foreach (var (key, value) in socket.Data)
        {
            if (key == "_admin")
            {
                continue;
            }
            try
            {
                data[key] = JsonSerializer.SerializeToNode(value, _io.WireOptions);
            }
            catch (Exception ex) when (ex is NotSupportedException or JsonException or InvalidOperationException)
            {
                data[key] = "[not serializable]";
            }
        }
        return data;
    }

    /// <summary>lib/index.ts serialize, for a socket another node reported (its <c>data._admin</c> says client and transport).</summary>
    private static JsonObject Serialize(RemoteSocket socket, string nsp)
    {
        var data = new JsonObject();
        string? clientId = null;
        string? transport = null;
        if (socket.Data.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in socket.Data.EnumerateObject())
            {
                if (property.Name == "_admin")
                {
                    clientId = property.Value.TryGetProperty("clientId", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                    transport = property.Value.TryGetProperty("transport", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                    continue;
                }
                data[property.Name] = JsonNode.Parse(property.Value.GetRawText());
            }
        }
        return Serialized(socket.Id, clientId, transport, nsp, data, socket.Handshake, socket.Rooms);
    }

    private static JsonObject Serialized(string id, string? clientId, string? transport, string nsp, JsonObject data, SocketHandshake handshake, IReadOnlySet<string> rooms)
    {
        var headers = new JsonObject();
        foreach (var (name, value) in handshake.Headers)
        {
            headers[name] = value;
        }
        var query = new JsonObject();
        foreach (var (name, value) in handshake.Query)
        {
            query[name] = value;
        }
        var address = handshake.GetHeader("cf-connecting-ip") ?? handshake.GetHeader("x-forwarded-for") ?? handshake.Address;
        return new JsonObject
        {
            ["id"] = id,
            ["clientId"] = clientId,
            ["transport"] = transport,
            ["nsp"] = nsp,
            ["data"] = data,
            ["handshake"] = new JsonObject
            {
                ["address"] = address,
                ["headers"] = headers,
                ["query"] = query,
                ["issued"] = handshake.Issued,
                ["secure"] = handshake.Secure,
                ["time"] = JavaScriptDate.Format(handshake.Time),
                ["url"] = handshake.Url,
                ["xdomain"] = handshake.Xdomain,
            },
            ["rooms"] = new JsonArray([.. rooms.Select(r => JsonValue.Create(r))]),
        };
    }

    /// <summary>JavaScript's <c>new Date()</c> as JSON sends it: ISO 8601 in UTC with milliseconds.</summary>
    private string Now() => _time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        _io.NamespaceCreated -= Instrument;
        await _statsTimer.DisposeAsync().ConfigureAwait(false);
        _events?.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(7000, LogLevel.Warning, "Admin UI namespace {Namespace} accepts anyone (AllowAnonymous): keep it off networks others reach")]
        public static partial void AnonymousAccess(ILogger logger, string @namespace);

        [LoggerMessage(7001, LogLevel.Warning, "Admin UI sign-in refused (connection {ConnectionId}): invalid credentials")]
        public static partial void InvalidCredentials(ILogger logger, string connectionId);

        [LoggerMessage(7002, LogLevel.Information, "Admin UI operation: {Operation} in namespace {Namespace} (filter {Filter})")]
        public static partial void Operation(ILogger logger, string operation, string @namespace, string? filter);

        [LoggerMessage(7003, LogLevel.Warning, "Admin UI could not send {Event}")]
        public static partial void EmitFailed(ILogger logger, string @event, Exception exception);

        [LoggerMessage(7005, LogLevel.Warning, "Admin UI sign-in refused unchecked (connection {ConnectionId}): too many failures from {Address}")]
        public static partial void TooManySignIns(ILogger logger, string address, string connectionId);

        [LoggerMessage(7004, LogLevel.Warning, "Admin UI: not every node listed the sockets of {Namespace} in time; showing this node's")]
        public static partial void FetchFailed(ILogger logger, string @namespace, Exception exception);
    }
}

using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Diagnostics;
using Parley.Protocol.EngineIO;

namespace Parley.EngineIO;

/// <summary>
/// The Engine.IO v4 server: answers handshakes, routes polling requests and WebSockets to their sessions, and
/// refuses bad requests with engine.io's error answers. Hosted by <c>MapEngineIO</c> or by the Socket.IO server.
/// </summary>
public sealed partial class EngineServer
{
    private readonly ConcurrentDictionary<string, EngineConnection> _clients = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    /// <summary>Creates a server; <paramref name="onConnection"/> receives every new connection before its first message.</summary>
    /// <exception cref="OptionsValidationException">An option is out of range (<see cref="EngineOptionsValidator"/>).</exception>
    public EngineServer(EngineOptions options, ILogger logger, Action<EngineConnection> onConnection, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (new EngineOptionsValidator().Validate(null, options) is { Failed: true } result)
        {
            throw new OptionsValidationException(nameof(EngineOptions), typeof(EngineOptions), result.Failures);
        }
        Options = options;
        Logger = logger;
        OnConnection = onConnection;
        _time = time ?? TimeProvider.System;
        Heartbeat = new EngineHeartbeat(_time, EngineHeartbeat.ResolutionFor(options));
    }

    /// <summary>The options in force.</summary>
    public EngineOptions Options { get; }

    internal ILogger Logger { get; }

    /// <summary>Where this server's instruments record (the host's <c>Parley</c> meter).</summary>
    internal ParleyMetrics Metrics { get; init; } = ParleyMetrics.Shared;

    internal TimeProvider Time => _time;

    /// <summary>The one timer of every connection's heartbeat and other deadlines.</summary>
    internal EngineHeartbeat Heartbeat { get; }

    private Action<EngineConnection> OnConnection { get; }

    /// <summary>Open connections.</summary>
    public int ClientsCount => _clients.Count;

    /// <summary>Looks up an open connection by sid.</summary>
    public bool TryGetConnection(string sid, out EngineConnection connection) => _clients.TryGetValue(sid, out connection!);

    /// <summary>Every open connection (a snapshot).</summary>
    public ICollection<EngineConnection> Connections => _clients.Values;

    internal void Remove(EngineConnection connection) => _clients.TryRemove(new KeyValuePair<string, EngineConnection>(connection.Id, connection));

    /// <summary>Closes every connection (reason <c>server shutting down</c>).</summary>
    public void CloseAll()
    {
        foreach (var connection in _clients.Values)
        {
            connection.OnClose(EngineCloseReasons.ServerShuttingDown);
        }
    }

    /// <summary>Handles one request addressed to the Engine.IO path.</summary>
    /// <remarks>
    /// Not an async method: it returns the task of the method that serves the request, so a WebSocket's request does
    /// not keep one more async state machine alive for the connection's whole life.
    /// </remarks>
    public Task HandleRequestAsync(HttpContext context)
    {
        var request = context.Request;
        var isWebSocket = context.WebSockets.IsWebSocketRequest;

        if (Options.Cors is { } cors && !isWebSocket)
        {
            if (EngineCors.Apply(cors, context))
            {
                return Task.CompletedTask; // a preflight, answered
            }
        }

        // Query checks in engine.io's order (server.ts verify): transport, then protocol, then sid.
        var transportName = request.Query["transport"].ToString();
        EngineTransport transport;
        if (transportName == "polling" && Options.Transports.Contains(EngineTransport.Polling))
        {
            transport = EngineTransport.Polling;
        }
        else if (transportName == "websocket" && Options.Transports.Contains(EngineTransport.WebSocket))
        {
            transport = EngineTransport.WebSocket;
        }
        else
        {
            return RefuseAsync(context, EngineError.UnknownTransport, isWebSocket, transportName);
        }
        var eio = request.Query["EIO"].ToString();
        int protocol;
        if (eio == "4")
        {
            protocol = 4;
        }
        else if (eio == "3" && Options.AllowEIO3)
        {
            protocol = 3;
        }
        else
        {
            return RefuseAsync(context, EngineError.UnsupportedProtocolVersion, isWebSocket, eio);
        }
        if (protocol == 3 && transport == EngineTransport.Polling && request.Query.ContainsKey("j"))
        {
            // engine.io would answer with its JSONP transport (transports/index.ts polling); Parley has none.
            return RefuseAsync(context, EngineError.BadRequest, isWebSocket, "JSONP polling is not supported");
        }

        var sid = request.Query["sid"].ToString();
        if (sid.Length == 0)
        {
            if (!HttpMethods.IsGet(request.Method))
            {
                return RefuseAsync(context, EngineError.BadHandshakeMethod, isWebSocket, request.Method);
            }
            if (transport == EngineTransport.WebSocket && !isWebSocket)
            {
                return RefuseAsync(context, EngineError.BadRequest, isWebSocket, "websocket transport without an upgrade");
            }
            return Options.AllowRequest is { } allow
                ? AllowThenHandshakeAsync(allow, context, transport, protocol, isWebSocket)
                : HandshakeAsync(context, transport, protocol);
        }

        if (!_clients.TryGetValue(sid, out var connection) ||
            (connection.State == EngineConnectionState.Closed && !(connection.HasLingeringPoll && HttpMethods.IsGet(request.Method) && !isWebSocket)))
        {
            return RefuseAsync(context, EngineError.UnknownSid, isWebSocket, sid);
        }
        if (protocol != connection.Protocol)
        {
            return RefuseAsync(context, EngineError.BadRequest, isWebSocket, "protocol revision mismatch");
        }

        if (isWebSocket)
        {
            if (transport != EngineTransport.WebSocket || !Options.AllowUpgrades || connection.UpgradeStartedOrDone)
            {
                // A second WebSocket for a session that is upgrading or upgraded is accepted and closed at once,
                // the first one keeps working (server.ts onWebSocket: "transport has already been upgraded").
                EngineLog.BadRequest(Logger, sid, "WebSocket for a session already upgraded or upgrading");
                return AcceptAndCloseAsync(context);
            }
            return AcceptUpgradeAsync(context, connection);
        }

        if (transport != EngineTransport.Polling || connection.Transport != EngineTransport.Polling)
        {
            return RefuseAsync(context, EngineError.BadRequest, isWebSocket: false, "transport mismatch");
        }
        if (HttpMethods.IsGet(request.Method))
        {
            return connection.HandlePollAsync(context);
        }
        if (HttpMethods.IsPost(request.Method))
        {
            return connection.HandlePostAsync(context);
        }
        // polling.ts onRequest answers other methods with a bare 500.
        context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        return Task.CompletedTask;
    }

    private async Task AllowThenHandshakeAsync(Func<HttpContext, ValueTask<RequestVerdict>> allow, HttpContext context, EngineTransport transport, int protocol, bool isWebSocket)
    {
        RequestVerdict verdict;
        try
        {
            verdict = await allow(context);
        }
        catch (Exception ex)
        {
            EngineLog.CallbackFailed(Logger, "-", ex);
            verdict = RequestVerdict.Deny();
        }
        if (!verdict.Allowed)
        {
            await RefuseAsync(context, EngineError.Forbidden, isWebSocket, verdict.Message, verdict.Message);
            return;
        }
        await HandshakeAsync(context, transport, protocol);
    }

    private async Task AcceptUpgradeAsync(HttpContext context, EngineConnection connection)
    {
        using var ws = await context.WebSockets.AcceptWebSocketAsync(AcceptContext());
        await connection.RunUpgradeAsync(ws, CorkingUpgradeFeature.Of(context));
    }

    private async Task AcceptAndCloseAsync(HttpContext context)
    {
        using var extra = await context.WebSockets.AcceptWebSocketAsync(AcceptContext());
        await CloseQuietlyAsync(extra);
    }

    private async Task HandshakeAsync(HttpContext context, EngineTransport transport, int protocol)
    {
        var id = GenerateId();
        var connection = new EngineConnection(this, id, transport, new EngineHandshake(context, _time.GetUtcNow()), protocol,
            supportsBinary: !context.Request.Query.ContainsKey("b64"));
        _clients[id] = connection;
        Metrics.EngineOpened(transport);
        EngineLog.ConnectionOpened(Logger, id, transport);

        if (Options.Cookie is { } cookie)
        {
            context.Response.Cookies.Append(cookie.Name, id, new CookieOptions
            {
                Path = cookie.Path,
                HttpOnly = cookie.HttpOnly,
                SameSite = cookie.SameSite,
                Secure = cookie.Secure,
            });
        }

        connection.Send(OpenPacket(id, transport));
        try
        {
            OnConnection(connection);
        }
        catch (Exception ex)
        {
            EngineLog.CallbackFailed(Logger, id, ex);
            connection.OnClose(EngineCloseReasons.ForcedClose);
        }
        connection.StartHeartbeat();

        if (transport == EngineTransport.Polling)
        {
            await connection.HandlePollAsync(context);
            return;
        }
        using var ws = await context.WebSockets.AcceptWebSocketAsync(AcceptContext());
        await connection.RunWebSocketAsync(ws, CorkingUpgradeFeature.Of(context));
    }

    /// <summary>
    /// The open packet: <c>0{"sid":…,"upgrades":[…],"pingInterval":…,"pingTimeout":…,"maxPayload":…}</c>, keys in
    /// engine.io's order (socket.ts onOpen).
    /// </summary>
    private EnginePacket OpenPacket(string id, EngineTransport transport)
    {
        var upgrades = transport == EngineTransport.Polling && Options.AllowUpgrades && Options.Transports.Contains(EngineTransport.WebSocket)
            ? "[\"websocket\"]"
            : "[]";
        var json = string.Concat(
            "{\"sid\":\"", id, "\",\"upgrades\":", upgrades,
            ",\"pingInterval\":", ((long)Options.PingInterval.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ",\"pingTimeout\":", ((long)Options.PingTimeout.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ",\"maxPayload\":", Options.MaxHttpBufferSize.ToString(System.Globalization.CultureInfo.InvariantCulture), "}");
        return EnginePacket.Text(EnginePacketType.Open, json, compress: false);
    }

    private Microsoft.AspNetCore.Http.WebSocketAcceptContext AcceptContext() =>
        new()
        {
            DangerousEnableCompression = Options.PerMessageDeflate,
            ServerMaxWindowBits = Options.PerMessageDeflateWindowBits,
            DisableServerContextTakeover = !Options.PerMessageDeflateContextTakeover,
            KeepAliveInterval = TimeSpan.Zero,
        };

    /// <summary>20 URL-safe base64 characters from 15 CSPRNG bytes, the shape of engine.io's base64id.</summary>
    internal static string GenerateId()
    {
        Span<byte> bytes = stackalloc byte[15];
        RandomNumberGenerator.Fill(bytes);
        return Convert.ToBase64String(bytes).Replace('+', '-').Replace('/', '_');
    }

    private static async Task CloseQuietlyAsync(System.Net.WebSockets.WebSocket ws)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await ws.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.PolicyViolation, "already upgraded", cts.Token);
        }
        catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or IOException or OperationCanceledException)
        {
            ws.Abort();
        }
    }
}

using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Parley.Internal;
using Parley.Sessions;
using Parley.Sessions.SocketIO;

namespace Parley;

/// <summary>
/// Shares the HTTP session with Socket.IO: at the handshake the signed <c>connect.sid</c> cookie (or the signed
/// value in the CONNECT auth payload) is verified and the session loaded; the socket carries it.
/// </summary>
public static partial class SocketSessionExtensions
{
    /// <summary>The room prefix of a session's sockets: <c>parley:session:</c> + the session key (a hash, never the id).</summary>
    public const string SessionRoomPrefix = "parley:session:";

    private static readonly object s_sessionItem = new();

    /// <summary>Requires a session on every connection to the main namespace (see <see cref="UseSessions(Namespace, Action{SocketSessionOptions}?)"/>).</summary>
    public static ParleyServer UseSessions(this ParleyServer server, Action<SocketSessionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        server.Sockets.UseSessions(configure);
        return server;
    }

    /// <summary>
    /// Adds a connection middleware that loads the session; requires <c>AddParleySessions()</c>. Each socket joins
    /// the room of its session so that logging out (<see cref="ParleySession.DestroyAsync"/>) disconnects that
    /// session's sockets on every node, through the adapter.
    /// </summary>
    public static Namespace UseSessions(this Namespace nsp, Action<SocketSessionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(nsp);
        var options = new SocketSessionOptions();
        configure?.Invoke(options);
        var services = nsp.Server.Services ?? throw new InvalidOperationException("UseSessions needs a server created by AddParley().");
        var manager = services.GetService<ParleySessionManager>()
            ?? throw new InvalidOperationException("Sessions are not registered: call builder.Services.AddParleySessions() to use UseSessions().");
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Parley.Sessions.SocketIO");
        var origins = new OriginPolicy(options.AllowedOrigins, nameof(SocketSessionOptions) + "." + nameof(SocketSessionOptions.AllowedOrigins));
        HookLogout(nsp, manager, logger);
        // The cookie is redacted for every namespace (SessionCookieRedactor); the auth field only exists here.
        Func<SocketHandshake, SocketHandshake> redactAuthField = h => HandshakeRedaction.WithoutAuthField(h, options.AuthField);

        nsp.Use(async (socket, next) =>
        {
            socket.RedactHandshake(redactAuthField);
            ParleySession? session;
            if (!manager.Store.IsReady)
            {
                // express-session goes on without a session while its store is disconnected (index.js storeReady);
                // a required session then cannot be had, which is the store's fault, not the client's.
                Log.StoreNotReady(logger, socket.ConnectionId);
                if (options.Required)
                {
                    throw new ParleyConnectionRefusedException(options.StoreUnavailableMessage);
                }
                session = null;
            }
            else
            {
                try
                {
                    session = await LoadAsync(socket, manager, options, origins, logger);
                }
                // Any store failure refuses the handshake; the exception goes to the log only (Validate runs after).
                catch (Exception ex)
                {
                    // The store's message may name hosts, ports and users (Npgsql's does): the client gets a fixed one.
                    Log.StoreFailed(logger, socket.ConnectionId, ex);
                    throw new ParleyConnectionRefusedException(options.StoreUnavailableMessage);
                }
            }
            if (session is not null && options.Validate is { } validate && !validate(session))
            {
                session = null;
            }
            if (session is null)
            {
                if (options.Required)
                {
                    throw new ParleyConnectionRefusedException(options.RefusalMessage);
                }
            }
            else
            {
                socket.Items[s_sessionItem] = session;
                socket.Join(SessionRoomPrefix + session.Key);
            }
            await next();
        });
        return nsp;
    }

    /// <summary>The session loaded at the handshake, or null when the namespace does not use sessions or had none.</summary>
    public static ParleySession? GetSession(this ParleySocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        return socket.Items.TryGetValue(s_sessionItem, out var value) ? value as ParleySession : null;
    }

    /// <summary>Disconnects the sockets of a session on every node (what logout does).</summary>
    public static Task DisconnectSessionAsync(this Namespace nsp, string sessionKey) =>
        nsp.In(SessionRoomPrefix + sessionKey).DisconnectSocketsAsync(close: false);

    private static void HookLogout(Namespace nsp, ParleySessionManager manager, ILogger logger)
    {
        // The event is raised on the node where the session ended; the room broadcast reaches the others. The
        // logout must not wait for the cluster, so the broadcast runs on its own and its failure is logged.
        manager.SessionDestroyed += (_, e) => _ = DisconnectAfterLogoutAsync(nsp, e.SessionKey, logger);
    }

    private static async Task DisconnectAfterLogoutAsync(Namespace nsp, string sessionKey, ILogger logger)
    {
        try
        {
            await nsp.DisconnectSessionAsync(sessionKey).ConfigureAwait(false);
        }
        // Nobody awaits this task: whatever the adapter throws is logged here or lost.
        catch (Exception ex)
        {
            Log.LogoutDisconnectFailed(logger, nsp.Name, ex);
        }
    }

    private static async Task<ParleySession?> LoadAsync(ParleySocket socket, ParleySessionManager manager, SocketSessionOptions options, OriginPolicy origins, ILogger logger)
    {
        var handshake = socket.Handshake;
        ParleySession? session;
        if (handshake.Auth.ValueKind == JsonValueKind.Object && handshake.Auth.TryGetProperty(options.AuthField, out var signed) &&
            signed.ValueKind == JsonValueKind.String)
        {
            session = await manager.LoadFromSignedValueAsync(signed.GetString());
        }
        else
        {
            var cookie = handshake.GetHeader("cookie");
            if (string.IsNullOrEmpty(cookie))
            {
                return null;
            }
            if (!origins.IsAllowed(handshake))
            {
                Log.ForeignOrigin(logger, handshake.GetHeader("origin") ?? "", socket.ConnectionId);
                return null;
            }
            session = await manager.LoadFromCookieHeaderAsync(cookie);
        }
        return session is null || session.IsNew ? null : session;
    }

    private static partial class Log
    {
        [LoggerMessage(4050, LogLevel.Warning, "Socket.IO handshake with a session cookie from a foreign origin '{Origin}' refused (connection {ConnectionId})")]
        public static partial void ForeignOrigin(ILogger logger, string origin, string connectionId);

        [LoggerMessage(4051, LogLevel.Error, "The session store failed while loading the session of a Socket.IO handshake; refused (connection {ConnectionId})")]
        public static partial void StoreFailed(ILogger logger, string connectionId, Exception exception);

        [LoggerMessage(4052, LogLevel.Debug, "The session store is not ready: a Socket.IO handshake gets no session and is refused if it needs one (connection {ConnectionId})")]
        public static partial void StoreNotReady(ILogger logger, string connectionId);

        [LoggerMessage(4053, LogLevel.Error, "Disconnecting the sockets of a session that ended failed in namespace {Namespace}: they may stay connected on other nodes")]
        public static partial void LogoutDisconnectFailed(ILogger logger, string @namespace, Exception exception);
    }
}

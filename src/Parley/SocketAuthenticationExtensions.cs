using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Internal;

namespace Parley;

/// <summary>
/// Admits sockets by the ASP.NET Core user of their opening request (<c>app.UseAuthentication()</c> ran before
/// Parley), for apps that use ASP.NET Core authentication instead of sessions.
/// </summary>
public static partial class SocketAuthenticationExtensions
{
    /// <summary>The room prefix of a user's sockets: <c>parley:user:</c> + <see cref="ComputeUserKey"/> of the user id.</summary>
    public const string UserRoomPrefix = "parley:user:";

    /// <summary>Requires an authenticated user on every connection to the main namespace.</summary>
    public static ParleyServer UseAuthentication(this ParleyServer server, Action<SocketAuthenticationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        server.Sockets.UseAuthentication(configure);
        return server;
    }

    /// <summary>
    /// Adds a connection middleware that refuses (<c>unauthorized</c>) a socket whose <see cref="ParleySocket.User"/> is
    /// not authenticated or comes from a foreign <c>Origin</c>; an admitted socket joins the room of its user, so that
    /// <see cref="DisconnectUserAsync(Namespace, string)"/> at sign-out ends its connections on every node. The
    /// authentication cookies and the <c>Authorization</c> header are kept out of what other nodes see of the socket.
    /// </summary>
    public static Namespace UseAuthentication(this Namespace nsp, Action<SocketAuthenticationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(nsp);
        var options = new SocketAuthenticationOptions();
        configure?.Invoke(options);
        var services = nsp.Server.Services ?? throw new InvalidOperationException("UseAuthentication needs a server created by AddParley().");
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Parley.Authentication");
        var origins = new OriginPolicy(options.AllowedOrigins, nameof(SocketAuthenticationOptions) + "." + nameof(SocketAuthenticationOptions.AllowedOrigins));
        // Scheme options are complete only once the host has built them; read them at the first admitted handshake.
        var redaction = new Lazy<Task<Func<SocketHandshake, SocketHandshake>>>(() => CreateRedactionAsync(services, options));

        nsp.Use(async (socket, next) =>
        {
            var user = socket.User;
            if (user.Identity?.IsAuthenticated != true || (options.Validate is { } validate && !validate(user)))
            {
                Log.Unauthenticated(logger, socket.ConnectionId);
                throw new ParleyConnectionRefusedException(options.RefusalMessage);
            }
            if (!origins.IsAllowed(socket.Handshake))
            {
                Log.ForeignOrigin(logger, socket.Handshake.GetHeader("origin") ?? "", socket.ConnectionId);
                throw new ParleyConnectionRefusedException(options.RefusalMessage);
            }
            socket.RedactHandshake(await redaction.Value);
            if (GetUserId(user, options.UserIdClaimType) is { } userId)
            {
                socket.Join(UserRoomPrefix + ComputeUserKey(userId));
            }
            await next();
        });
        return nsp;
    }

    /// <summary>A non-reversible key for a user id, for room names that cross the network: base64url of SHA-256.</summary>
    public static string ComputeUserKey(string userId)
    {
        ArgumentNullException.ThrowIfNull(userId);
        return System.Buffers.Text.Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(userId)));
    }

    /// <summary>
    /// Disconnects a user's sockets of this namespace on every node (call it at sign-out, with the id of
    /// <see cref="SocketAuthenticationOptions.UserIdClaimType"/>).
    /// </summary>
    public static Task DisconnectUserAsync(this Namespace nsp, string userId)
    {
        ArgumentNullException.ThrowIfNull(nsp);
        return nsp.In(UserRoomPrefix + ComputeUserKey(userId)).DisconnectSocketsAsync(close: false);
    }

    /// <summary>
    /// Disconnects a user's sockets of every namespace on every node: at sign-out,
    /// <c>await HttpContext.SignOutAsync(); await io.DisconnectUserAsync(userId);</c>. A signed-out browser keeps its
    /// connections otherwise, since authentication is checked only at the handshake.
    /// </summary>
    public static async Task DisconnectUserAsync(this ParleyServer server, string userId)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(userId);
        foreach (var nsp in server.Namespaces)
        {
            await nsp.DisconnectUserAsync(userId).ConfigureAwait(false);
        }
    }

    private static string? GetUserId(ClaimsPrincipal user, string claimType) =>
        user.FindFirst(claimType)?.Value is { Length: > 0 } id ? id : user.Identity?.Name is { Length: > 0 } name ? name : null;

    // ChunkingCookieManager writes a large cookie as name=chunks-N plus nameC1..nameCN.
    private static bool IsAuthenticationCookie(string name, string[] names)
    {
        foreach (var n in names)
        {
            if (name.StartsWith(n, StringComparison.Ordinal) &&
                (name.Length == n.Length ||
                 (name.Length > n.Length + 1 && name[n.Length] == 'C' && !name.AsSpan(n.Length + 1).ContainsAnyExceptInRange('0', '9'))))
            {
                return true;
            }
        }
        return false;
    }

    private static async Task<Func<SocketHandshake, SocketHandshake>> CreateRedactionAsync(IServiceProvider services, SocketAuthenticationOptions options)
    {
        var names = await CookieNamesAsync(services, options).ConfigureAwait(false);
        return h => HandshakeRedaction.WithoutHeader(HandshakeRedaction.WithoutCookies(h, name => IsAuthenticationCookie(name, names)), "authorization");
    }

    private static async Task<string[]> CookieNamesAsync(IServiceProvider services, SocketAuthenticationOptions options)
    {
        if (options.RedactedCookies.Count > 0)
        {
            return [.. options.RedactedCookies];
        }
        if (services.GetService<IAuthenticationSchemeProvider>() is not { } schemes ||
            services.GetService<IOptionsMonitor<CookieAuthenticationOptions>>() is not { } cookieOptions)
        {
            return [];
        }
        var names = new List<string>();
        foreach (var scheme in await schemes.GetAllSchemesAsync().ConfigureAwait(false))
        {
            if (typeof(CookieAuthenticationHandler).IsAssignableFrom(scheme.HandlerType) && cookieOptions.Get(scheme.Name).Cookie.Name is { Length: > 0 } name)
            {
                names.Add(name);
            }
        }
        return [.. names];
    }

    private static partial class Log
    {
        [LoggerMessage(4054, LogLevel.Debug, "Socket.IO handshake without an authenticated user refused (connection {ConnectionId})")]
        public static partial void Unauthenticated(ILogger logger, string connectionId);

        [LoggerMessage(4055, LogLevel.Warning, "Socket.IO handshake of an authenticated user from a foreign origin '{Origin}' refused (connection {ConnectionId})")]
        public static partial void ForeignOrigin(ILogger logger, string origin, string connectionId);
    }
}

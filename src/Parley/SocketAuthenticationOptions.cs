using System.Security.Claims;

namespace Parley;

/// <summary>How a namespace admits sockets by their ASP.NET Core user (<c>io.UseAuthentication(o => …)</c>).</summary>
public sealed class SocketAuthenticationOptions
{
    /// <summary>The <c>connect_error</c> message of a refusal (<c>unauthorized</c>).</summary>
    public string RefusalMessage { get; set; } = "unauthorized";

    /// <summary>
    /// An extra check of the authenticated user (e.g. a role: <c>u =&gt; u.IsInRole("staff")</c>); failing it refuses
    /// the handshake like an anonymous one.
    /// </summary>
    public Func<ClaimsPrincipal, bool>? Validate { get; set; }

    /// <summary>
    /// The claim that identifies a user (<see cref="ClaimTypes.NameIdentifier"/>); <see cref="ClaimsIdentity.Name"/>
    /// when the user has none. Sockets join the room of its hash, so that
    /// <see cref="SocketAuthenticationExtensions.DisconnectUserAsync(ParleyServer, string)"/> reaches them on every node.
    /// </summary>
    public string UserIdClaimType { get; set; } = ClaimTypes.NameIdentifier;

    /// <summary>
    /// Origins allowed besides the request's own, compared as the sessions package's <c>SocketSessionOptions.AllowedOrigins</c> are. The
    /// check applies to every handshake that carries an <c>Origin</c>: authentication cookies (and Basic or Windows
    /// authentication) are sent by browsers to a WebSocket opened by any site. A page on another origin that
    /// authenticates with a token must be listed here.
    /// </summary>
    public IList<string> AllowedOrigins { get; } = [];

    /// <summary>
    /// Cookies taken out of the handshake that other nodes see (see <see cref="ParleySocket.SharedHandshake"/>), with
    /// their chunks (<c>name</c> + <c>C1</c>, <c>C2</c>… as ASP.NET Core's chunking cookie manager writes them). Empty
    /// (the default): the cookies of every registered cookie authentication scheme. The <c>Authorization</c> header is
    /// always taken out.
    /// </summary>
    public IList<string> RedactedCookies { get; } = [];
}

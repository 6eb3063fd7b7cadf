using Microsoft.Extensions.Options;
using Parley.Internal;

namespace Parley.Sessions.SocketIO;

/// <summary>
/// Takes the session cookie out of every socket's shared handshake (registered by <c>AddParleySessions</c>): its
/// signed value is a login, and a remote <c>fetchSockets</c> would otherwise carry it to every node over Redis.
/// Applies to every namespace, whether it uses sessions or not, since browsers send the cookie to all of them.
/// </summary>
internal sealed class SessionCookieRedactor(IOptions<ParleySessionOptions> options) : IHandshakeRedactor
{
    private readonly string _cookieName = options.Value.CookieName;

    public SocketHandshake Redact(SocketHandshake handshake) =>
        HandshakeRedaction.WithoutCookies(handshake, name => name == _cookieName);
}

namespace Parley.Sessions;

/// <summary>
/// A session ended on this node. Carries the session's <see cref="SessionKey"/> (SHA-256 of the id), never the id:
/// the Socket.IO layer disconnects the sockets whose session has this key and may publish the key to other nodes.
/// </summary>
public sealed class SessionDestroyedEventArgs(string sessionKey, SessionEndReason reason) : EventArgs
{
    /// <summary>The session's key, as <see cref="ParleySession.Key"/> and <see cref="ParleySessionManager.ComputeSessionKey"/> give it.</summary>
    public string SessionKey { get; } = sessionKey;

    /// <summary>Why the session ended.</summary>
    public SessionEndReason Reason { get; } = reason;
}

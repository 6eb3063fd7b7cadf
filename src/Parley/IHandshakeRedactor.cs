namespace Parley;

/// <summary>
/// Takes credentials out of a socket's handshake before it is shared: <c>FetchSocketsAsync</c> reports sockets with
/// their handshake (headers, auth), and a cluster adapter sends that to the other nodes. Register implementations as
/// singletons (<c>services.TryAddEnumerable(ServiceDescriptor.Singleton&lt;IHandshakeRedactor, …&gt;())</c>); they
/// apply to every socket of every namespace, in registration order, when its <see cref="ParleySocket.SharedHandshake"/>
/// is first read (the server resolves them once). Add-ons that read a credential only in some namespaces can use
/// <see cref="ParleySocket.RedactHandshake"/> instead.
/// </summary>
public interface IHandshakeRedactor
{
    /// <summary>The handshake as other nodes may see it (the same instance when there is nothing to take out).</summary>
    SocketHandshake Redact(SocketHandshake handshake);
}

using System.Net;
using System.Net.Sockets;

namespace Parley.Testing;

/// <summary>Free ports on 127.0.0.1 for servers the tests start as separate processes.</summary>
public static class LoopbackPort
{
    /// <summary>A port nothing listens on right now (the OS picks it; another process could take it before us).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

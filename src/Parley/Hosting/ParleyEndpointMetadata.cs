namespace Parley.Hosting;

/// <summary>
/// Marks the endpoints <c>MapParley</c> adds (the Engine.IO endpoint and the client bundle), so that middleware
/// meant for the web app's own pages can recognise Socket.IO traffic: e.g. the session middleware leaves it alone,
/// because the handshake loads the session itself and a long-polling client makes a request every few seconds.
/// </summary>
public sealed class ParleyEndpointMetadata
{
    internal static readonly ParleyEndpointMetadata Instance = new();

    private ParleyEndpointMetadata()
    {
    }
}

using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Parley;
using Parley.Hosting;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the Socket.IO server (<c>app.MapParley("/socket.io")</c>).</summary>
public static class ParleyEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Serves Socket.IO at <paramref name="path"/> (default <c>/socket.io</c>) and, unless <c>ServeClient</c> is off,
    /// the official browser client at <c>{path}/socket.io.js</c>. <paramref name="configure"/> sets up namespaces
    /// and handlers.
    /// </summary>
    public static IEndpointConventionBuilder MapParley(this IEndpointRouteBuilder endpoints, string path = "/socket.io", Action<ParleyServer>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var server = endpoints.ServiceProvider.GetService<ParleyServer>()
            ?? throw new InvalidOperationException("Parley's services are missing: call builder.Services.AddParley() before app.MapParley().");
        var engine = server.Attach();
        configure?.Invoke(server);
        _ = server.Sockets;

        var trimmed = "/" + path.Trim('/');
        if (server.Options.ServeClient)
        {
            foreach (var file in ClientBundle.FileNames)
            {
                endpoints.MapGet(trimmed + "/" + file, context => ClientBundle.ServeAsync(context, file)).WithMetadata(ParleyEndpointMetadata.Instance);
            }
        }
        // Routing matches with and without the trailing slash (engine.io's addTrailingSlash serves both).
        return endpoints.Map(trimmed, engine.HandleRequestAsync).WithMetadata(ParleyEndpointMetadata.Instance);
    }
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Parley.EngineIO;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Hosts a raw Engine.IO server (no Socket.IO on top) on a path.</summary>
public static class EngineEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps a raw Engine.IO server at <paramref name="path"/> (e.g. <c>/engine.io</c>); <paramref name="onConnection"/>
    /// receives each connection. Requires <c>app.UseWebSockets()</c> for the WebSocket transport.
    /// </summary>
    public static IEndpointConventionBuilder MapEngineIO(this IEndpointRouteBuilder endpoints, string path, EngineOptions options, Action<EngineConnection> onConnection)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Parley.EngineIO");
        var server = new EngineServer(options, logger, onConnection, services.GetService<TimeProvider>())
        {
            Metrics = services.GetService<Parley.Diagnostics.ParleyMetrics>() ?? Parley.Diagnostics.ParleyMetrics.Shared,
        };
        services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(server.CloseAll);
        var trimmed = path.TrimEnd('/');
        // Routing matches with and without the trailing slash, as engine.io's addTrailingSlash serves both.
        return endpoints.Map(trimmed, server.HandleRequestAsync);
    }
}

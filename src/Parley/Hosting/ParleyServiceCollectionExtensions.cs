using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley;
using Parley.Adapters;
using Parley.Diagnostics;
using Parley.EngineIO;
using Parley.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Parley (<c>builder.Services.AddParley(o => …)</c>).</summary>
public static class ParleyServiceCollectionExtensions
{
    /// <summary>
    /// Adds the Socket.IO server. Add-ons chain on the returned builder (<c>.AddRedis(…)</c>); map it with
    /// <c>app.MapParley("/socket.io")</c>.
    /// </summary>
    public static IParleyBuilder AddParley(this IServiceCollection services, Action<ParleyOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<ParleyOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ParleyOptions>, ParleyOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ParleyAdapterFactory>(_ => new ParleyAdapterFactory(static nsp => new InMemoryAdapter(nsp)));
        services.AddMetrics();
        services.TryAddSingleton<ParleyMetrics>();
        services.TryAddSingleton(sp => new ParleyServer(
            sp.GetRequiredService<IOptions<ParleyOptions>>().Value,
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ParleyAdapterFactory>().Create)
        {
            Services = sp,
            Metrics = sp.GetRequiredService<ParleyMetrics>(),
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ParleyHostedService>());
        // The WebSocket transport needs ASP.NET Core's WebSocket middleware; adding it here saves users the call.
        services.TryAddEnumerable(ServiceDescriptor.Transient<IStartupFilter, ParleyStartupFilter>());
        return new ParleyBuilder(services);
    }

    private sealed class ParleyStartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            // Ahead of the WebSocket middleware: an Engine.IO WebSocket runs over a stream that can write a batch
            // of frames at once (CorkedStream).
            app.Use(CorkingUpgradeFeature.InvokeAsync);
            app.UseWebSockets();
            next(app);
        };
    }

    private sealed class ParleyBuilder(IServiceCollection services) : IParleyBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}

/// <summary>Chains Parley add-ons (<c>AddParley().AddRedis(…)</c>).</summary>
public interface IParleyBuilder
{
    /// <summary>The service collection.</summary>
    IServiceCollection Services { get; }
}

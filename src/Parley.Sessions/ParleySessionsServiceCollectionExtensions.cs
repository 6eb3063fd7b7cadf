using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Parley;
using Parley.Sessions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers express-session compatible sessions.</summary>
public static class ParleySessionsServiceCollectionExtensions
{
    /// <summary>
    /// Adds sessions with the memory store unless another is chained (<c>.AddPostgreSqlStore(…)</c>); options are
    /// validated at start-up. Then call <c>app.UseParleySessions()</c>.
    /// </summary>
    public static IParleySessionsBuilder AddParleySessions(this IServiceCollection services, Action<ParleySessionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<ParleySessionOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ParleySessionOptions>, ParleySessionOptionsValidator>());
        services.AddOptions<MemorySessionStoreOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MemorySessionStoreOptions>, MemorySessionStoreOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<MemorySessionStore>();
        services.TryAddSingleton<SessionStore>(sp => sp.GetRequiredService<MemorySessionStore>());
        services.AddMetrics();
        services.TryAddSingleton<Parley.Sessions.Diagnostics.SessionMetrics>();
        services.TryAddSingleton<ParleySessionManager>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHandshakeRedactor, Parley.Sessions.SocketIO.SessionCookieRedactor>());
        return new ParleySessionsBuilder(services);
    }

    private sealed class ParleySessionsBuilder(IServiceCollection services) : IParleySessionsBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}

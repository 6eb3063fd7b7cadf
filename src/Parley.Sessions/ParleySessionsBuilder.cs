using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Parley.Sessions;

/// <summary>Returned by <see cref="ParleySessionsServiceCollectionExtensions.AddParleySessions"/>; stores chain on it.</summary>
public sealed class ParleySessionsBuilder
{
    internal ParleySessionsBuilder(IServiceCollection services) => Services = services;

    /// <summary>The service collection.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Keeps sessions in this process's memory (the default when no store is added).</summary>
    public ParleySessionsBuilder AddMemoryStore(Action<MemorySessionStoreOptions>? configure = null)
    {
        if (configure is not null)
        {
            Services.Configure(configure);
        }
        return UseStore(sp => sp.GetRequiredService<MemorySessionStore>());
    }

    /// <summary>
    /// Uses <typeparamref name="TStore"/> as the session store (registered as a singleton). Store packages
    /// (PostgreSQL, Redis) call this from their own <c>Add…Store</c> extension.
    /// </summary>
    public ParleySessionsBuilder AddStore<TStore>()
        where TStore : SessionStore
    {
        Services.TryAddSingleton<TStore>();
        return UseStore(sp => sp.GetRequiredService<TStore>());
    }

    /// <summary>Uses the store the factory returns.</summary>
    public ParleySessionsBuilder UseStore(Func<IServiceProvider, SessionStore> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Services.Replace(ServiceDescriptor.Singleton(factory));
        return this;
    }
}

using Microsoft.Extensions.DependencyInjection.Extensions;
using Parley.Sessions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Chooses the session store on the builder <see cref="ParleySessionsServiceCollectionExtensions.AddParleySessions"/> returns.</summary>
public static class ParleySessionsBuilderExtensions
{
    /// <summary>Keeps sessions in this process's memory (the default when no store is added).</summary>
    public static IParleySessionsBuilder AddMemoryStore(this IParleySessionsBuilder builder, Action<MemorySessionStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (configure is not null)
        {
            builder.Services.Configure(configure);
        }
        return builder.UseStore(sp => sp.GetRequiredService<MemorySessionStore>());
    }

    /// <summary>
    /// Uses <typeparamref name="TStore"/> as the session store (registered as a singleton). Store packages
    /// (PostgreSQL, Redis) call this from their own <c>Add…Store</c> extension.
    /// </summary>
    public static IParleySessionsBuilder AddStore<TStore>(this IParleySessionsBuilder builder)
        where TStore : SessionStore
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<TStore>();
        return builder.UseStore(sp => sp.GetRequiredService<TStore>());
    }

    /// <summary>Uses the store the factory returns.</summary>
    public static IParleySessionsBuilder UseStore(this IParleySessionsBuilder builder, Func<IServiceProvider, SessionStore> factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        builder.Services.Replace(ServiceDescriptor.Singleton(factory));
        return builder;
    }
}

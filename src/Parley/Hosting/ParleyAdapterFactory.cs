using Parley.Adapters;

namespace Parley.Hosting;

/// <summary>Creates each namespace's adapter; replaced by cluster add-ons such as <c>AddRedis</c>.</summary>
public sealed class ParleyAdapterFactory(Func<Namespace, ParleyAdapter> create)
{
    /// <summary>Creates the adapter of <paramref name="namespace"/>.</summary>
    public ParleyAdapter Create(Namespace @namespace) => create(@namespace);
}

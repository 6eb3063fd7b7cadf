namespace Parley.Adapters;

/// <summary>Who a broadcast reaches and how (socket.io-adapter <c>BroadcastOptions</c>).</summary>
public sealed class BroadcastOptions
{
    private static readonly HashSet<string> s_empty = [];

    /// <summary>Creates options.</summary>
    public BroadcastOptions(IReadOnlySet<string>? rooms = null, IReadOnlySet<string>? except = null, BroadcastFlags? flags = null)
    {
        Rooms = rooms ?? s_empty;
        Except = except ?? s_empty;
        Flags = flags ?? BroadcastFlags.Default;
    }

    /// <summary>Rooms to reach; empty means every socket of the namespace.</summary>
    public IReadOnlySet<string> Rooms { get; }

    /// <summary>Rooms whose sockets are left out.</summary>
    public IReadOnlySet<string> Except { get; }

    /// <summary>Modifiers.</summary>
    public BroadcastFlags Flags { get; }
}

/// <summary>Broadcast modifiers (socket.io-adapter <c>BroadcastFlags</c>).</summary>
public sealed record BroadcastFlags
{
    /// <summary>No modifier.</summary>
    public static readonly BroadcastFlags Default = new();

    /// <summary>Only this node's sockets (<c>io.local</c>).</summary>
    public bool Local { get; init; }

    /// <summary>Dropped for sockets that cannot take it right now (<c>volatile</c>).</summary>
    public bool Volatile { get; init; }

    /// <summary>Whether the transport may compress it (<c>compress</c>, true).</summary>
    public bool Compress { get; init; } = true;

    /// <summary>How long to wait for acknowledgements (<c>timeout</c>).</summary>
    public TimeSpan? Timeout { get; init; }
}

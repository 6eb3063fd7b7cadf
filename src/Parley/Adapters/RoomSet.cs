using System.Collections;
using System.Collections.Immutable;

namespace Parley.Adapters;

/// <summary>
/// The rooms of a broadcast: an immutable set that enumerates in the order rooms were added. socket.io keeps them
/// in a JavaScript <c>Set</c> (insertion order), and the Redis adapter publishes them in that order
/// (<c>opts.rooms</c>, interop.md §5), so a hash set would write the same broadcast differently from Node.
/// </summary>
internal sealed class RoomSet : IReadOnlySet<string>
{
    public static readonly RoomSet Empty = new(ImmutableList<string>.Empty, ImmutableHashSet.Create<string>(StringComparer.Ordinal));

    private readonly ImmutableList<string> _order;
    private readonly ImmutableHashSet<string> _set;

    private RoomSet(ImmutableList<string> order, ImmutableHashSet<string> set)
    {
        _order = order;
        _set = set;
    }

    public int Count => _order.Count;

    public RoomSet Add(string room) => _set.Contains(room) ? this : new(_order.Add(room), _set.Add(room));

    public RoomSet Union(IEnumerable<string> rooms)
    {
        var result = this;
        foreach (var room in rooms)
        {
            result = result.Add(room);
        }
        return result;
    }

    public bool Contains(string item) => _set.Contains(item);

    public IEnumerator<string> GetEnumerator() => _order.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public bool IsProperSubsetOf(IEnumerable<string> other) => _set.IsProperSubsetOf(other);

    public bool IsProperSupersetOf(IEnumerable<string> other) => _set.IsProperSupersetOf(other);

    public bool IsSubsetOf(IEnumerable<string> other) => _set.IsSubsetOf(other);

    public bool IsSupersetOf(IEnumerable<string> other) => _set.IsSupersetOf(other);

    public bool Overlaps(IEnumerable<string> other) => _set.Overlaps(other);

    public bool SetEquals(IEnumerable<string> other) => _set.SetEquals(other);
}

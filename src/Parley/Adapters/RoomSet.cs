using System.Collections;

namespace Parley.Adapters;

/// <summary>
/// The rooms of a broadcast: an immutable set that enumerates in the order rooms were added. socket.io keeps them
/// in a JavaScript <c>Set</c> (insertion order), and the Redis adapter publishes them in that order
/// (<c>opts.rooms</c>, docs/wire-formats.md §5), so a hash set would write the same broadcast differently from Node.
/// A broadcast names a few rooms: an array copied on add, searched linearly, with a hash set built once for
/// lookups when there are many.
/// </summary>
internal sealed class RoomSet : IReadOnlySet<string>
{
    private const int LinearLimit = 8;

    public static readonly RoomSet Empty = new([]);

    private readonly string[] _rooms;
    private HashSet<string>? _lookup;

    private RoomSet(string[] rooms) => _rooms = rooms;

    public int Count => _rooms.Length;

    public RoomSet Add(string room) => Contains(room) ? this : new([.. _rooms, room]);

    public RoomSet Union(IEnumerable<string> rooms)
    {
        var result = this;
        foreach (var room in rooms)
        {
            result = result.Add(room);
        }
        return result;
    }

    public bool Contains(string item)
    {
        if (_rooms.Length <= LinearLimit)
        {
            return Array.IndexOf(_rooms, item) >= 0;
        }
        return AsSet().Contains(item);
    }

    public IEnumerator<string> GetEnumerator() => ((IEnumerable<string>)_rooms).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private HashSet<string> AsSet() => _lookup ??= new HashSet<string>(_rooms, StringComparer.Ordinal);

    public bool IsProperSubsetOf(IEnumerable<string> other) => AsSet().IsProperSubsetOf(other);

    public bool IsProperSupersetOf(IEnumerable<string> other) => AsSet().IsProperSupersetOf(other);

    public bool IsSubsetOf(IEnumerable<string> other) => AsSet().IsSubsetOf(other);

    public bool IsSupersetOf(IEnumerable<string> other) => AsSet().IsSupersetOf(other);

    public bool Overlaps(IEnumerable<string> other) => AsSet().Overlaps(other);

    public bool SetEquals(IEnumerable<string> other) => AsSet().SetEquals(other);
}

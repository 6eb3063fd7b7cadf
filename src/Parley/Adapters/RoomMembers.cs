namespace Parley.Adapters;

/// <summary>
/// A set of strings (ordinal) sized for what the adapter keeps per room and per socket: most rooms have one member
/// (a socket's own room, a person's room) and most sockets are in a few rooms. One member is held as is, up to
/// <see cref="ArrayLimit"/> in an array searched linearly, more in a <see cref="HashSet{T}"/>. A
/// <see cref="HashSet{T}"/> for every such set costs about 170 bytes even for one member, for each connection's
/// whole life. Not thread-safe: the adapter uses it under its lock.
/// </summary>
internal sealed class RoomMembers
{
    private const int ArrayLimit = 8;

    // null (empty), a string (one member), a string[] (up to ArrayLimit, the first _count used) or a HashSet<string>.
    private object? _items;
    private int _count;

    public int Count => _count;

    public bool Contains(string item) => _items switch
    {
        null => false,
        string one => string.Equals(one, item, StringComparison.Ordinal),
        string[] array => IndexOf(array, item) >= 0,
        _ => ((HashSet<string>)_items).Contains(item),
    };

    /// <summary>Adds <paramref name="item"/>; false when it was there already.</summary>
    public bool Add(string item)
    {
        switch (_items)
        {
            case null:
                _items = item;
                break;
            case string one:
                if (string.Equals(one, item, StringComparison.Ordinal))
                {
                    return false;
                }
                _items = new string[] { one, item, null!, null! };
                break;
            case string[] array:
                if (IndexOf(array, item) >= 0)
                {
                    return false;
                }
                if (_count < array.Length)
                {
                    array[_count] = item;
                }
                else if (array.Length < ArrayLimit)
                {
                    var bigger = new string[array.Length * 2];
                    array.CopyTo(bigger, 0);
                    bigger[_count] = item;
                    _items = bigger;
                }
                else
                {
                    _items = new HashSet<string>(array, StringComparer.Ordinal) { item };
                }
                break;
            default:
                if (!((HashSet<string>)_items).Add(item))
                {
                    return false;
                }
                break;
        }
        _count++;
        return true;
    }

    /// <summary>Removes <paramref name="item"/>; false when it was not there.</summary>
    public bool Remove(string item)
    {
        switch (_items)
        {
            case null:
                return false;
            case string one:
                if (!string.Equals(one, item, StringComparison.Ordinal))
                {
                    return false;
                }
                _items = null;
                break;
            case string[] array:
                var i = IndexOf(array, item);
                if (i < 0)
                {
                    return false;
                }
                // Order is not kept: the last member takes the removed one's place.
                array[i] = array[_count - 1];
                array[_count - 1] = null!;
                break;
            default:
                if (!((HashSet<string>)_items).Remove(item))
                {
                    return false;
                }
                break;
        }
        _count--;
        return true;
    }

    private int IndexOf(string[] array, string item)
    {
        for (var i = 0; i < _count; i++)
        {
            if (string.Equals(array[i], item, StringComparison.Ordinal))
            {
                return i;
            }
        }
        return -1;
    }

    public Enumerator GetEnumerator() => new(this);

    /// <summary>Enumerates without allocating; the set must not change meanwhile.</summary>
    public struct Enumerator
    {
        private readonly object? _items;
        private readonly int _count;
        private HashSet<string>.Enumerator _set;
        private int _index;

        internal Enumerator(RoomMembers members)
        {
            _items = members._items;
            _count = members._count;
            _index = -1;
            Current = null!;
            if (_items is HashSet<string> set)
            {
                _set = set.GetEnumerator();
            }
        }

        public string Current { get; private set; }

        public bool MoveNext()
        {
            switch (_items)
            {
                case null:
                    return false;
                case string one:
                    if (++_index > 0)
                    {
                        return false;
                    }
                    Current = one;
                    return true;
                case string[] array:
                    if (++_index >= _count)
                    {
                        return false;
                    }
                    Current = array[_index];
                    return true;
                default:
                    if (!_set.MoveNext())
                    {
                        return false;
                    }
                    Current = _set.Current;
                    return true;
            }
        }
    }
}

using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Parley;

/// <summary>
/// Application data attached to a socket (socket.io's <c>socket.data</c>): a small thread-safe dictionary, serialized
/// as a JSON object for <c>FetchSocketsAsync</c> on other nodes, that tells who listens when a key is set or removed
/// (the admin UI shows such changes, as upstream's proxy of <c>socket.data</c> does).
/// </summary>
/// <remarks>
/// Most sockets hold a key or two, and many hold none, so the storage is made on first write and guarded by a
/// private lock rather than being a <see cref="System.Collections.Concurrent.ConcurrentDictionary{TKey,TValue}"/>,
/// which costs hundreds of bytes per socket before anything is stored. Enumeration works on a copy. A change inside a
/// stored object is not seen: only assignments and removals of keys are.
/// </remarks>
public sealed class SocketData : IDictionary<string, object?>
{
    private readonly Lock _lock = new();
    private Dictionary<string, object?>? _items;

    /// <summary>Raised after a key is set or removed, with the key, outside any lock.</summary>
    public event Action<string>? Changed;

    /// <inheritdoc />
    public object? this[string key]
    {
        get => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"socket data has no key '{key}'");
        set
        {
            ArgumentNullException.ThrowIfNull(key);
            lock (_lock)
            {
                (_items ??= new Dictionary<string, object?>(StringComparer.Ordinal))[key] = value;
            }
            Changed?.Invoke(key);
        }
    }

    /// <inheritdoc />
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _items?.Count ?? 0;
            }
        }
    }

    /// <inheritdoc />
    public ICollection<string> Keys => Snapshot().Select(static pair => pair.Key).ToArray();

    /// <inheritdoc />
    public ICollection<object?> Values => Snapshot().Select(static pair => pair.Value).ToArray();

    bool ICollection<KeyValuePair<string, object?>>.IsReadOnly => false;

    /// <inheritdoc />
    public void Add(string key, object? value)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock)
        {
            (_items ??= new Dictionary<string, object?>(StringComparer.Ordinal)).Add(key, value);
        }
        Changed?.Invoke(key);
    }

    /// <summary>Sets <paramref name="key"/> unless it is there already; true if it was set.</summary>
    public bool TryAdd(string key, object? value)
    {
        ArgumentNullException.ThrowIfNull(key);
        bool added;
        lock (_lock)
        {
            added = (_items ??= new Dictionary<string, object?>(StringComparer.Ordinal)).TryAdd(key, value);
        }
        if (added)
        {
            Changed?.Invoke(key);
        }
        return added;
    }

    /// <inheritdoc />
    public bool ContainsKey(string key)
    {
        lock (_lock)
        {
            return _items?.ContainsKey(key) ?? false;
        }
    }

    /// <inheritdoc />
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out object? value)
    {
        lock (_lock)
        {
            if (_items is not null)
            {
                return _items.TryGetValue(key, out value);
            }
        }
        value = null;
        return false;
    }

    /// <inheritdoc />
    public bool Remove(string key)
    {
        bool removed;
        lock (_lock)
        {
            removed = _items?.Remove(key) ?? false;
        }
        if (removed)
        {
            Changed?.Invoke(key);
        }
        return removed;
    }

    /// <inheritdoc />
    public void Clear()
    {
        string[] keys;
        lock (_lock)
        {
            if (_items is null || _items.Count == 0)
            {
                return;
            }
            keys = [.. _items.Keys];
            _items.Clear();
        }
        foreach (var key in keys)
        {
            Changed?.Invoke(key);
        }
    }

    /// <summary>A copy of the entries, for enumeration while other threads write.</summary>
    private KeyValuePair<string, object?>[] Snapshot()
    {
        lock (_lock)
        {
            return _items is null ? [] : [.. _items];
        }
    }

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)Snapshot()).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    void ICollection<KeyValuePair<string, object?>>.Add(KeyValuePair<string, object?> item) => Add(item.Key, item.Value);

    bool ICollection<KeyValuePair<string, object?>>.Contains(KeyValuePair<string, object?> item) =>
        TryGetValue(item.Key, out var value) && Equals(value, item.Value);

    void ICollection<KeyValuePair<string, object?>>.CopyTo(KeyValuePair<string, object?>[] array, int arrayIndex) =>
        Snapshot().CopyTo(array, arrayIndex);

    bool ICollection<KeyValuePair<string, object?>>.Remove(KeyValuePair<string, object?> item)
    {
        bool removed;
        lock (_lock)
        {
            removed = _items is not null && ((ICollection<KeyValuePair<string, object?>>)_items).Remove(item);
        }
        if (removed)
        {
            Changed?.Invoke(item.Key);
        }
        return removed;
    }
}

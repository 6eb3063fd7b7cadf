using System.Collections;
using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Parley.EngineIO;

/// <summary>
/// The headers or query of a handshake, kept for the connection's whole life: a flat array searched linearly (a
/// request has a dozen headers and a few query parameters, looked up at connect time only) instead of a
/// <see cref="Dictionary{TKey, TValue}"/> with its buckets, about 40% smaller per connection.
/// </summary>
internal sealed class HandshakeValues : IReadOnlyDictionary<string, StringValues>
{
    // Lower-case forms of the header names ASP.NET Core knows, made once: header names are kept lower-case, as
    // Node gives them (socket.handshake.headers), without a new name string per connection for the usual headers.
    private static readonly FrozenDictionary<string, string> s_lowerNames = typeof(HeaderNames)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.FieldType == typeof(string))
        .Select(f => (string)f.GetValue(null)!)
        .Distinct(StringComparer.OrdinalIgnoreCase)
        .ToFrozenDictionary(n => n, n => n.ToLowerInvariant(), StringComparer.OrdinalIgnoreCase);

    private readonly KeyValuePair<string, StringValues>[] _entries;
    private readonly StringComparer _comparer;

    private HandshakeValues(KeyValuePair<string, StringValues>[] entries, StringComparer comparer)
    {
        _entries = entries;
        _comparer = comparer;
    }

    /// <summary>Request headers: names lower-cased, looked up case-insensitively.</summary>
    public static HandshakeValues FromHeaders(IEnumerable<KeyValuePair<string, StringValues>> headers, int count)
    {
        var entries = new List<KeyValuePair<string, StringValues>>(count);
        foreach (var (name, value) in headers)
        {
            var lower = s_lowerNames.TryGetValue(name, out var known) ? known : name.ToLowerInvariant();
            Add(entries, StringComparer.OrdinalIgnoreCase, lower, value);
        }
        return new HandshakeValues([.. entries], StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Query parameters: names as sent, looked up case-sensitively (Node's URLSearchParams).</summary>
    public static HandshakeValues FromQuery(IEnumerable<KeyValuePair<string, StringValues>> query, int count)
    {
        var entries = new List<KeyValuePair<string, StringValues>>(count);
        foreach (var (name, value) in query)
        {
            Add(entries, StringComparer.Ordinal, name, value);
        }
        return new HandshakeValues([.. entries], StringComparer.Ordinal);
    }

    // A repeated name keeps its last value, as the dictionary this replaces did.
    private static void Add(List<KeyValuePair<string, StringValues>> entries, StringComparer comparer, string name, StringValues value)
    {
        for (var i = 0; i < entries.Count; i++)
        {
            if (comparer.Equals(entries[i].Key, name))
            {
                entries[i] = new(entries[i].Key, value);
                return;
            }
        }
        entries.Add(new(name, value));
    }

    public StringValues this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException(key);

    public IEnumerable<string> Keys => _entries.Select(e => e.Key);

    public IEnumerable<StringValues> Values => _entries.Select(e => e.Value);

    public int Count => _entries.Length;

    public bool ContainsKey(string key) => TryGetValue(key, out _);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out StringValues value)
    {
        foreach (var entry in _entries)
        {
            if (_comparer.Equals(entry.Key, key))
            {
                value = entry.Value;
                return true;
            }
        }
        value = default;
        return false;
    }

    public IEnumerator<KeyValuePair<string, StringValues>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, StringValues>>)_entries).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

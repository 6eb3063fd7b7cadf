namespace Parley.Chat;

/// <summary>One chat message as clients receive it: <c>{id, room, user, text, ts}</c>.</summary>
internal sealed record ChatMessage(string Id, string Room, string User, string Text, long Ts);

/// <summary>The last messages of each room, given to clients when they join.</summary>
internal interface IChatHistory
{
    ValueTask AddAsync(ChatMessage message);

    ValueTask<IReadOnlyList<ChatMessage>> GetAsync(string room);
}

/// <summary>
/// History kept in this process: the last <see cref="Limit"/> messages per room, oldest first, bounded in total
/// (<see cref="ChatLimits.MaxHistoryMessages"/>: the room written longest ago goes first) and in time
/// (<see cref="ChatLimits.HistoryRetention"/>). Without those bounds, one user joining, posting in and leaving
/// room after room grew the process by about 14 KB a room, for ever.
/// </summary>
internal sealed class MemoryChatHistory(ChatLimits limits, TimeProvider time) : IChatHistory
{
    public const int Limit = 50;

    // One lock: adds are a few pointer moves, and eviction needs the rooms in order of their last write.
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<Room>> _rooms = new(StringComparer.Ordinal);
    private readonly LinkedList<Room> _byLastWrite = new(); // least recently written first
    private int _total;

    /// <summary>Rooms with history (for tests and diagnostics).</summary>
    public int RoomCount
    {
        get
        {
            lock (_lock)
            {
                return _rooms.Count;
            }
        }
    }

    /// <summary>Messages kept over all rooms.</summary>
    public int MessageCount
    {
        get
        {
            lock (_lock)
            {
                return _total;
            }
        }
    }

    public ValueTask AddAsync(ChatMessage message)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (_rooms.TryGetValue(message.Room, out var node))
            {
                _byLastWrite.Remove(node);
            }
            else
            {
                node = new LinkedListNode<Room>(new Room(message.Room));
                _rooms.Add(message.Room, node);
            }
            _byLastWrite.AddLast(node);
            var room = node.Value;
            room.LastWrite = now;
            room.Messages.Enqueue(message);
            _total++;
            if (room.Messages.Count > Limit)
            {
                room.Messages.Dequeue();
                _total--;
            }
            while (_total > limits.MaxHistoryMessages && _byLastWrite.First != node)
            {
                Remove(_byLastWrite.First!);
            }
            EvictIdle(now);
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<ChatMessage>> GetAsync(string room)
    {
        lock (_lock)
        {
            EvictIdle(time.GetUtcNow());
            return ValueTask.FromResult<IReadOnlyList<ChatMessage>>(_rooms.TryGetValue(room, out var node) ? [.. node.Value.Messages] : []);
        }
    }

    private void EvictIdle(DateTimeOffset now)
    {
        while (_byLastWrite.First is { } oldest && now - oldest.Value.LastWrite > limits.HistoryRetention)
        {
            Remove(oldest);
        }
    }

    private void Remove(LinkedListNode<Room> node)
    {
        _byLastWrite.Remove(node);
        _rooms.Remove(node.Value.Name);
        _total -= node.Value.Messages.Count;
    }

    private sealed class Room(string name)
    {
        public string Name { get; } = name;

        public Queue<ChatMessage> Messages { get; } = new(8);

        public DateTimeOffset LastWrite { get; set; }
    }
}

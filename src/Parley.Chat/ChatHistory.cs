using System.Collections.Concurrent;

namespace Parley.Chat;

/// <summary>One chat message as clients receive it: <c>{id, room, user, text, ts}</c>.</summary>
internal sealed record ChatMessage(string Id, string Room, string User, string Text, long Ts);

/// <summary>The last messages of each room, given to clients when they join.</summary>
internal interface IChatHistory
{
    ValueTask AddAsync(ChatMessage message);

    ValueTask<IReadOnlyList<ChatMessage>> GetAsync(string room);
}

/// <summary>History kept in this process: the last <see cref="Limit"/> messages per room, oldest first.</summary>
internal sealed class MemoryChatHistory : IChatHistory
{
    public const int Limit = 50;

    private readonly ConcurrentDictionary<string, Queue<ChatMessage>> _rooms = new(StringComparer.Ordinal);

    public ValueTask AddAsync(ChatMessage message)
    {
        var queue = _rooms.GetOrAdd(message.Room, _ => new Queue<ChatMessage>(Limit + 1));
        lock (queue)
        {
            queue.Enqueue(message);
            while (queue.Count > Limit)
            {
                queue.Dequeue();
            }
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<ChatMessage>> GetAsync(string room)
    {
        if (!_rooms.TryGetValue(room, out var queue))
        {
            return ValueTask.FromResult<IReadOnlyList<ChatMessage>>([]);
        }
        lock (queue)
        {
            return ValueTask.FromResult<IReadOnlyList<ChatMessage>>([.. queue]);
        }
    }
}

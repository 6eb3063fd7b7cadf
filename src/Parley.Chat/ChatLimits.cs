using System.Globalization;

namespace Parley.Chat;

/// <summary>
/// What one user can make the chat keep (docs/security.md "The chat's bounds"). From configuration under
/// <c>Parley:Chat</c> (environment <c>Parley__Chat__MaxRoomsPerUser</c>, command line
/// <c>--Parley:Chat:MaxRoomsPerUser=10</c>); checked at start-up.
/// </summary>
internal sealed class ChatLimits
{
    /// <summary>Messages kept per room and given to a client that joins it.</summary>
    public const int HistoryPerRoom = MemoryChatHistory.Limit;

    /// <summary>Chat rooms one person (a name, all tabs and nodes together, <c>chat</c> included) can be in at once. Default 20.</summary>
    public int MaxRoomsPerUser { get; set; } = 20;

    /// <summary>
    /// Messages the history keeps over all rooms (memory and PostgreSQL); past it, the rooms written longest ago
    /// go first. Default 10,000: at most about 40 MB of text in memory (2,000 characters per message).
    /// </summary>
    public int MaxHistoryMessages { get; set; } = 10_000;

    /// <summary>A room with no message for this long loses its history (memory and PostgreSQL). Default 7 days.</summary>
    public TimeSpan HistoryRetention { get; set; } = TimeSpan.FromDays(7);

    public static ChatLimits FromConfiguration(IConfiguration configuration)
    {
        var limits = new ChatLimits();
        var section = configuration.GetSection("Parley:Chat");
        if (section["MaxRoomsPerUser"] is { } rooms)
        {
            limits.MaxRoomsPerUser = int.Parse(rooms, CultureInfo.InvariantCulture);
        }
        if (section["MaxHistoryMessages"] is { } messages)
        {
            limits.MaxHistoryMessages = int.Parse(messages, CultureInfo.InvariantCulture);
        }
        if (section["HistoryRetention"] is { } retention)
        {
            limits.HistoryRetention = TimeSpan.Parse(retention, CultureInfo.InvariantCulture);
        }
        limits.Validate();
        return limits;
    }

    public void Validate()
    {
        if (MaxRoomsPerUser < 1)
        {
            throw new ArgumentException("Parley:Chat:MaxRoomsPerUser must be at least 1 (the chat room).");
        }
        if (MaxHistoryMessages < HistoryPerRoom)
        {
            throw new ArgumentException($"Parley:Chat:MaxHistoryMessages must be at least {HistoryPerRoom} (one room's history).");
        }
        if (HistoryRetention <= TimeSpan.Zero)
        {
            throw new ArgumentException("Parley:Chat:HistoryRetention must be positive.");
        }
    }
}

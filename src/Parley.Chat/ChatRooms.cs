namespace Parley.Chat;

/// <summary>
/// Which Socket.IO rooms are chat rooms. Users name rooms freely, except for the names the server keeps
/// (docs/security.md "Rooms the server keeps"):
/// <list type="bullet">
/// <item>a socket's own room, its id: socket.io and Parley make ids of 15 random bytes in base64url, 20 characters
/// of <c>A–Z a–z 0–9 - _</c>, so every such name is refused, on every node, without asking the cluster which ids
/// exist (one that does not exist now may exist tomorrow);</item>
/// <item>anything starting with <c>parley:</c>: session, user and person rooms of Parley and its add-ons.</item>
/// </list>
/// </summary>
internal static class ChatRooms
{
    public const int MaxName = 64;

    /// <summary>Prefix of every room the server uses internally.</summary>
    public const string InternalPrefix = "parley:";

    private const int SocketIdLength = 20;

    /// <summary>The room of all a person's sockets (every tab, every node), to find their other tabs.</summary>
    public static string PersonRoom(string name) => InternalPrefix + "chat:person:" + name;

    /// <summary>Whether <paramref name="room"/> is a room users may join, leave and write in.</summary>
    public static bool IsChatRoom(string room) => !IsReserved(room);

    public static bool IsReserved(string room) =>
        room.StartsWith(InternalPrefix, StringComparison.Ordinal) || LooksLikeSocketId(room);

    /// <summary>Validates a room name a client sent (trimmed); null when it is acceptable, else the error for the ack.</summary>
    public static string? Check(string? requested, out string room)
    {
        room = requested?.Trim() ?? "";
        if (room.Length is < 1 or > MaxName)
        {
            return $"room must be 1 to {MaxName} characters";
        }
        if (room.AsSpan().IndexOfAnyInRange('\0', '\u001f') >= 0 || room.AsSpan().IndexOfAnyInRange('\u007f', '\u009f') >= 0)
        {
            return "room names cannot hold control characters";
        }
        if (IsReserved(room))
        {
            return "that room name is reserved";
        }
        return null;
    }

    private static bool LooksLikeSocketId(string room)
    {
        if (room.Length != SocketIdLength)
        {
            return false;
        }
        foreach (var c in room)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }
        return true;
    }
}

using System.Net;
using System.Text.Json;
using Parley.Sessions.SocketIO;

namespace Parley.Chat;

/// <summary>
/// The chat's Socket.IO contract (docs/chat.md): rooms, messages with acks, history on join,
/// presence as deltas, and the first chat page's <c>toServer</c>/<c>toClient</c>. The sender's name always comes from the
/// session. Room names are the Socket.IO rooms themselves (the chat's <c>chat</c> is a Node app's <c>chat</c> on
/// the same Redis adapter); the names the server keeps for itself are refused (<see cref="ChatRooms"/>).
/// </summary>
internal sealed partial class ChatSockets(IChatHistory history, ChatLimits limits, TimeProvider time, ILogger<ChatSockets> logger)
{
    public const string DefaultRoom = "chat";
    public const int MaxText = 2000;

    /// <summary>The key of the person's name in <see cref="ParleySocket.Data"/> (what other nodes' fetchSockets read).</summary>
    private const string NameKey = "name";

    /// <summary>
    /// Membership changes of a room within this window share one presence message (a delta: as big as the
    /// change, never as big as the room).
    /// </summary>
    public static readonly TimeSpan PresenceCoalescing = TimeSpan.FromMilliseconds(100);

    // A socket's joins are counted and made under a lock, so that concurrent joins of one socket see each other. One
    // of a fixed set of locks, chosen by socket id, serves: a lock per connection would cost every idle connection.
    private readonly Lock[] _joinLocks = [.. Enumerable.Range(0, 64).Select(_ => new Lock())];

    private readonly Lock _presenceLock = new();

    // One set of handlers for every socket (made once, in Configure): the socket comes with the event and the name
    // from the socket's data, so a connection holds no closures of its own.
    private Func<SocketEvent, Task> _onMessage = null!;
    private Func<SocketEvent, Task> _onJoin = null!;
    private Func<SocketEvent, Task> _onLeave = null!;
    private Func<SocketEvent, Task> _onToServer = null!;
    private Action<ParleySocket, string> _onDisconnecting = null!;
    private readonly Dictionary<string, PresenceDelta> _presencePending = new(StringComparer.Ordinal);

    public void Configure(ParleyServer io)
    {
        io.UseSessions(o => o.Validate = session => !string.IsNullOrEmpty(session.Get<string>("name")));
        _onMessage = e => OnMessageAsync(e.Socket!, NameOf(e.Socket!), e);
        _onJoin = e => OnJoinAsync(e.Socket!, NameOf(e.Socket!), e);
        _onLeave = e => OnLeaveAsync(e.Socket!, NameOf(e.Socket!), e);
        _onToServer = e => OnToServerAsync(e.Socket!, NameOf(e.Socket!), e);
        _onDisconnecting = (socket, reason) =>
        {
            // Rooms are still known here; presence is decided once the socket has left them.
            var rooms = socket.Rooms.Where(ChatRooms.IsChatRoom).ToArray();
            socket.Disconnected += (_, _) => _ = LeftAsync(socket, NameOf(socket), rooms);
        };
        io.OnConnection(OnConnectionAsync);
    }

    /// <summary>The person's name, which the connection handler put in the socket's data from the session.</summary>
    private static string NameOf(ParleySocket socket) => (string)socket.Data[NameKey]!;

    private async Task OnConnectionAsync(ParleySocket socket)
    {
        var name = socket.GetSession()!.Get<string>("name")!;
        socket.Data[NameKey] = name;
        // Joined before the first await: a message to chat sent right after the client's connect reaches it. A
        // recovered socket is back in the rooms it had, and only those (it may have left chat).
        if (!socket.Recovered)
        {
            socket.Join([ChatRooms.PersonRoom(name), DefaultRoom]);
        }

        socket.On("message", _onMessage).On("join", _onJoin).On("leave", _onLeave).On("toServer", _onToServer);
        socket.Disconnecting += _onDisconnecting;

        try
        {
            if (socket.Recovered)
            {
                await RejoinedAsync(socket, name);
                return;
            }
            // The person joined chat unless another tab of theirs (any node) was there first. Two tabs connecting
            // at once both see each other: the earlier one (handshake time, then id) announces.
            var others = await OtherSocketsOfAsync(socket, name);
            var earlier = others.Any(o => o.Rooms.Contains(DefaultRoom)
                && (o.Handshake.Issued < socket.Handshake.Issued || (o.Handshake.Issued == socket.Handshake.Issued && string.CompareOrdinal(o.Id, socket.Id) < 0)));
            if (!earlier)
            {
                PresenceChanged(socket.Namespace.Server, DefaultRoom, name, joined: true);
            }
        }
        // A failed cluster query costs one presence delta, not the connection.
        catch (Exception ex)
        {
            LogPresenceFailed(logger, DefaultRoom, ex);
        }
    }

    private async Task OnMessageAsync(ParleySocket socket, string name, SocketEvent e)
    {
        string? room = DefaultRoom;
        string? text = null;
        if (e.Arguments.Count > 0 && e.Arguments[0].Element is { ValueKind: JsonValueKind.Object } payload)
        {
            if (payload.TryGetProperty("room", out var r))
            {
                room = r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            }
            if (payload.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
            {
                text = t.GetString();
            }
        }
        if (text is null || text.Length is < 1 or > MaxText)
        {
            await e.AckAsync(new { ok = false, error = $"text must be 1 to {MaxText} characters" });
            return;
        }
        // A socket is in its own id room and in internal rooms too: those are not chat rooms.
        if (room is null || !ChatRooms.IsChatRoom(room) || !socket.Rooms.Contains(room))
        {
            await e.AckAsync(new { ok = false, error = "not in that room" });
            return;
        }
        var message = new ChatMessage(Guid.NewGuid().ToString("N"), room, name, text, time.GetUtcNow().ToUnixTimeMilliseconds());
        await history.AddAsync(message);
        await socket.Namespace.To(room).EmitAsync("message", message);
        await e.AckAsync(new { ok = true, id = message.Id });
    }

    private async Task OnJoinAsync(ParleySocket socket, string name, SocketEvent e)
    {
        if (ChatRooms.Check(RoomArgument(e), out var room) is { } error)
        {
            await e.AckAsync(new { ok = false, error });
            return;
        }
        var io = socket.Namespace.Server;
        if (!socket.Rooms.Contains(room))
        {
            // Asked before joining: the person's other tabs (any node) say whether this is news and how many rooms
            // the person is in. Two tabs joining at once may both announce; presence is a set, so that is harmless.
            var others = await OtherSocketsOfAsync(socket, name);
            var present = others.Any(o => o.Rooms.Contains(room));
            var othersRooms = new HashSet<string>(StringComparer.Ordinal);
            foreach (var other in others)
            {
                othersRooms.UnionWith(other.Rooms.Where(ChatRooms.IsChatRoom));
            }
            bool refused;
            // Counted and joined under the socket's lock, with its rooms as they are now: a client that sends
            // 10,000 joins at once has them handled concurrently, and each must see the ones before it.
            lock (_joinLocks[(uint)string.GetHashCode(socket.Id) % (uint)_joinLocks.Length])
            {
                othersRooms.UnionWith(socket.Rooms.Where(ChatRooms.IsChatRoom));
                refused = !othersRooms.Contains(room) && othersRooms.Count >= limits.MaxRoomsPerUser;
                if (!refused)
                {
                    socket.Join(room);
                }
            }
            if (refused)
            {
                await e.AckAsync(new { ok = false, error = $"at most {limits.MaxRoomsPerUser} rooms at once: leave one first" });
                return;
            }
            if (!present)
            {
                PresenceChanged(io, room, name, joined: true);
            }
        }
        var messages = await history.GetAsync(room);
        var users = await UsersInAsync(io, room);
        await e.AckAsync(new { ok = true, history = messages, users });
    }

    private async Task OnLeaveAsync(ParleySocket socket, string name, SocketEvent e)
    {
        if (ChatRooms.Check(RoomArgument(e), out var room) is not null || !socket.Rooms.Contains(room))
        {
            await e.AckAsync(new { ok = false, error = "not in that room" });
            return;
        }
        socket.Leave(room);
        await e.AckAsync(new { ok = true });
        await LeftAsync(socket, name, [room]);
    }

    /// <summary>
    /// A socket that recovered its connection is back in the rooms it had (Parley restored them): the person is
    /// back in those where no other tab of theirs stayed, since their drop announced that they left.
    /// </summary>
    private async Task RejoinedAsync(ParleySocket socket, string name)
    {
        var others = await OtherSocketsOfAsync(socket, name);
        foreach (var room in socket.Rooms.Where(ChatRooms.IsChatRoom))
        {
            if (!others.Any(o => o.Rooms.Contains(room)))
            {
                PresenceChanged(socket.Namespace.Server, room, name, joined: true);
            }
        }
    }

    /// <summary>After a socket left <paramref name="rooms"/>: the person left those where no tab of theirs remains.</summary>
    private async Task LeftAsync(ParleySocket socket, string name, string[] rooms)
    {
        if (rooms.Length == 0)
        {
            return;
        }
        try
        {
            // Every socket of the person, this one's id included: this one has left these rooms already, and a
            // socket with its id that is in them is the same tab, back with its connection recovered.
            var others = await socket.Namespace.In(ChatRooms.PersonRoom(name)).FetchSocketsAsync();
            foreach (var room in rooms)
            {
                if (!others.Any(o => o.Rooms.Contains(room)))
                {
                    PresenceChanged(socket.Namespace.Server, room, name, joined: false);
                }
            }
        }
        // Nobody awaits a disconnect's presence: a failed cluster query is logged.
        catch (Exception ex)
        {
            LogPresenceFailed(logger, rooms[0], ex);
        }
    }

    /// <summary>The person's other sockets on every node (the adapter's fetchSockets on their person room).</summary>
    private static async Task<IReadOnlyList<RemoteSocket>> OtherSocketsOfAsync(ParleySocket socket, string name)
    {
        var sockets = await socket.Namespace.In(ChatRooms.PersonRoom(name)).FetchSocketsAsync();
        return [.. sockets.Where(s => s.Id != socket.Id)];
    }

    /// <summary>Who is in the room now on every node, each name once, sorted.</summary>
    private static async Task<string[]> UsersInAsync(ParleyServer io, string room)
    {
        var sockets = await io.In(room).FetchSocketsAsync();
        return sockets
            .Select(s => s.Data.ValueKind == JsonValueKind.Object && s.Data.TryGetProperty(NameKey, out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null)
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>Seed 002's page: <c>toServer</c> text → <c>"&lt;b&gt;NAME:&lt;/b&gt; TEXT&lt;br&gt;"</c> to everyone in <c>chat</c>, escaped.</summary>
    private static Task OnToServerAsync(ParleySocket socket, string name, SocketEvent e)
    {
        var text = e.Arguments.Count > 0 && e.Arguments[0].Element.ValueKind == JsonValueKind.String ? e.Arguments[0].Element.GetString()! : null;
        if (text is null || text.Length is < 1 or > MaxText)
        {
            return Task.CompletedTask;
        }
        var html = $"<b>{WebUtility.HtmlEncode(name)}:</b> {WebUtility.HtmlEncode(text)}<br>";
        return socket.Namespace.To(DefaultRoom).EmitAsync("toClient", html);
    }

    private static string? RoomArgument(SocketEvent e)
    {
        if (e.Arguments.Count == 0)
        {
            return null;
        }
        var element = e.Arguments[0].Element;
        return element.ValueKind switch
        {
            JsonValueKind.String => element.GetString(),
            JsonValueKind.Object when element.TryGetProperty("room", out var r) && r.ValueKind == JsonValueKind.String => r.GetString(),
            _ => null,
        };
    }

    /// <summary>Records a change of the person's membership; the room's pending delta is sent after the coalescing window.</summary>
    private void PresenceChanged(ParleyServer io, string room, string name, bool joined)
    {
        bool schedule;
        lock (_presenceLock)
        {
            schedule = !_presencePending.TryGetValue(room, out var delta);
            if (schedule)
            {
                delta = new PresenceDelta();
                _presencePending.Add(room, delta);
            }
            // The last change of a person within the window wins: clients apply left, then joined, as sets.
            (joined ? delta!.Left : delta!.Joined).Remove(name);
            (joined ? delta.Joined : delta.Left).Add(name);
        }
        if (schedule)
        {
            _ = SendPresenceSoonAsync(io, room);
        }
    }

    private async Task SendPresenceSoonAsync(ParleyServer io, string room)
    {
        PresenceDelta? delta = null;
        try
        {
            await Task.Delay(PresenceCoalescing, time);
            lock (_presenceLock)
            {
                // From here on a change starts another delta.
                _presencePending.Remove(room, out delta);
            }
            if (delta is not null)
            {
                await io.To(room).EmitAsync("presence", new
                {
                    room,
                    joined = delta.Joined.Order(StringComparer.Ordinal).ToArray(),
                    left = delta.Left.Order(StringComparer.Ordinal).ToArray(),
                });
            }
        }
        // Nobody awaits this: a failed presence update (e.g. the adapter down) is logged.
        catch (Exception ex)
        {
            LogPresenceFailed(logger, room, ex);
        }
    }

    [LoggerMessage(6000, LogLevel.Warning, "Could not send presence for room {Room}")]
    private static partial void LogPresenceFailed(ILogger logger, string room, Exception exception);

    private sealed class PresenceDelta
    {
        public HashSet<string> Joined { get; } = new(StringComparer.Ordinal);

        public HashSet<string> Left { get; } = new(StringComparer.Ordinal);
    }
}

using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Parley.Sessions.SocketIO;

namespace Parley.Chat;

/// <summary>
/// The chat's Socket.IO contract (DESIGN.md "The chat's contract"): rooms, messages with acks, history on join,
/// presence, and seed 002's <c>toServer</c>/<c>toClient</c>. The sender's name always comes from the session.
/// </summary>
internal sealed partial class ChatSockets(IChatHistory history, TimeProvider time, ILogger<ChatSockets> logger)
{
    public const string DefaultRoom = "chat";
    public const int MaxText = 2000;
    public const int MaxRoomName = 64;

    /// <summary>
    /// Membership changes of a room within this window share one presence message. One per change would cost
    /// O(n²) when n people arrive together (each message lists everyone, to everyone): 2,000 connects took minutes.
    /// </summary>
    public static readonly TimeSpan PresenceCoalescing = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentDictionary<string, bool> _presencePending = new(StringComparer.Ordinal);

    public void Configure(ParleyServer io)
    {
        io.UseSessions(o => o.Validate = session => !string.IsNullOrEmpty(session.Get<string>("name")));
        io.OnConnection(OnConnectionAsync);
    }

    private async Task OnConnectionAsync(ParleySocket socket)
    {
        var name = socket.GetSession()!.Get<string>("name")!;
        socket.Data["name"] = name;
        socket.Join(RoomKey(DefaultRoom));

        socket.On("message", e => OnMessageAsync(socket, name, e));
        socket.On("join", e => OnJoinAsync(socket, e));
        socket.On("leave", e => OnLeaveAsync(socket, e));
        socket.On("toServer", e => OnToServerAsync(socket, name, e));
        socket.Disconnecting += (s, reason) =>
        {
            // Rooms are still known here; presence is sent once the socket has left them.
            var rooms = s.Rooms.Where(r => r.StartsWith(RoomPrefix, StringComparison.Ordinal)).Select(r => r[RoomPrefix.Length..]).ToArray();
            s.Disconnected += (_, _) =>
            {
                foreach (var room in rooms)
                {
                    PresenceChanged(s.Namespace.Server, room);
                }
            };
        };
        PresenceChanged(socket.Namespace.Server, DefaultRoom);
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
        if (room is null || !socket.Rooms.Contains(RoomKey(room)))
        {
            await e.AckAsync(new { ok = false, error = "not in that room" });
            return;
        }
        var message = new ChatMessage(Guid.NewGuid().ToString("N"), room, name, text, time.GetUtcNow().ToUnixTimeMilliseconds());
        await history.AddAsync(message);
        await socket.Namespace.To(RoomKey(room)).EmitAsync("message", message);
        await e.AckAsync(new { ok = true, id = message.Id });
    }

    private async Task OnJoinAsync(ParleySocket socket, SocketEvent e)
    {
        var room = RoomArgument(e);
        if (room is null)
        {
            await e.AckAsync(new { ok = false, error = $"room must be 1 to {MaxRoomName} characters" });
            return;
        }
        socket.Join(RoomKey(room));
        var messages = await history.GetAsync(room);
        await e.AckAsync(new { ok = true, history = messages });
        PresenceChanged(socket.Namespace.Server, room);
    }

    private async Task OnLeaveAsync(ParleySocket socket, SocketEvent e)
    {
        var room = RoomArgument(e);
        if (room is null || !socket.Rooms.Contains(RoomKey(room)))
        {
            await e.AckAsync(new { ok = false, error = "not in that room" });
            return;
        }
        socket.Leave(RoomKey(room));
        await e.AckAsync(new { ok = true });
        PresenceChanged(socket.Namespace.Server, room);
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
        return socket.Namespace.To(RoomKey(DefaultRoom)).EmitAsync("toClient", html);
    }

    private static string? RoomArgument(SocketEvent e)
    {
        if (e.Arguments.Count == 0)
        {
            return null;
        }
        var element = e.Arguments[0].Element;
        var room = element.ValueKind switch
        {
            JsonValueKind.String => element.GetString(),
            JsonValueKind.Object when element.TryGetProperty("room", out var r) && r.ValueKind == JsonValueKind.String => r.GetString(),
            _ => null,
        };
        room = room?.Trim();
        return string.IsNullOrEmpty(room) || room.Length > MaxRoomName ? null : room;
    }

    /// <summary>
    /// The adapter room of a chat room. The prefix keeps typed names apart from sockets' own rooms (their ids) and
    /// session rooms, so nobody can join another socket's private room by naming it.
    /// </summary>
    private static string RoomKey(string room) => RoomPrefix + room;

    private const string RoomPrefix = "room:";

    /// <summary>Schedules a presence message for the room unless one is already due (it will see this change too).</summary>
    private void PresenceChanged(ParleyServer io, string room)
    {
        if (_presencePending.TryAdd(room, true))
        {
            _ = SendPresenceSoonAsync(io, room);
        }
    }

    private async Task SendPresenceSoonAsync(ParleyServer io, string room)
    {
        try
        {
            await Task.Delay(PresenceCoalescing, time);
            // From here on a change schedules another message: this one may be fetched before it.
            _presencePending.TryRemove(room, out _);
            await SendPresenceAsync(io, room);
        }
#pragma warning disable CA1031 // Nobody awaits this: a failed presence update (e.g. a cluster request) is logged.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _presencePending.TryRemove(room, out _);
            LogPresenceFailed(logger, room, ex);
        }
    }

    [LoggerMessage(6000, LogLevel.Warning, "Could not send presence for room {Room}")]
    private static partial void LogPresenceFailed(ILogger logger, string room, Exception exception);

    /// <summary>
    /// <c>presence {room, users}</c> to the room: the distinct names of its sockets on every node (FetchSockets
    /// goes through the adapter, so presence is cluster-wide).
    /// </summary>
    private static async Task SendPresenceAsync(ParleyServer io, string room)
    {
        var sockets = await io.In(RoomKey(room)).FetchSocketsAsync();
        var users = sockets
            .Select(s => s.Data.ValueKind == JsonValueKind.Object && s.Data.TryGetProperty("name", out var n) ? n.GetString() : null)
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToArray();
        await io.To(RoomKey(room)).EmitAsync("presence", new { room, users });
    }
}

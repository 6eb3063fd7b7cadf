using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Parley.Testing;

namespace Parley.Chat.Tests;

/// <summary>
/// What one user can make the chat keep is bounded (docs/security.md "The chat's bounds"), and hostile strings in
/// the chat's fields are answered without an exception. One node with the in-memory history, its total cap
/// lowered to 100 messages so the bound is reached quickly.
/// </summary>
public sealed class ChatBoundsTests : IAsyncLifetime
{
    private ChatHost _host = null!;
    private NodeDriver _node = null!;

    public async Task InitializeAsync()
    {
        _host = await ChatHost.StartAsync("--Parley:Chat:MaxHistoryMessages=100");
        _node = NodeDriver.Start();
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        await _host.DisposeAsync();
    }

    private MemoryChatHistory History => (MemoryChatHistory)_host.App.Services.GetRequiredService<IChatHistory>();

    private ParleyServer Io => _host.App.Services.GetRequiredService<ParleyServer>();

    private async Task<string> ConnectAsUserAsync(string name, string transport = "websocket")
    {
        var cookie = await _host.LoginAsync(name);
        var h = await _node.CallForHandleAsync("sio.connect", new
        {
            url = _host.Url,
            opts = new JsonObject { ["transports"] = new JsonArray(transport), ["extraHeaders"] = new JsonObject { ["cookie"] = cookie } },
        });
        await _node.NextEventAsync(h, "connect");
        return h;
    }

    private Task<JsonNode?> EmitAsync(string h, string ev, params object?[] args) =>
        _node.CallAsync("sio.emit", new { h, @event = ev, args, ack = true, timeout = 10_000 });

    private async Task<JsonArray> EmitManyAsync(string h, string ev, IEnumerable<object?[]> argsList) =>
        (await _node.CallAsync("sio.emitMany", new { h, @event = ev, argsList = argsList.ToArray(), timeout = 60_000 }, TimeSpan.FromSeconds(90)))!.AsArray();

    [Fact]
    public async Task One_user_joining_10000_rooms_gets_20_and_error_acks_for_the_rest()
    {
        var rooms = Io.Sockets.Adapter.LocalRooms.Count;
        var mallory = await ConnectAsUserAsync("Mallory");
        var acks = await EmitManyAsync(mallory, "join", Enumerable.Range(0, 10_000).Select(i => new object?[] { "flood-" + i }));
        Assert.Equal(19, acks.Count(a => a!["ok"]?.GetValue<bool>() == true)); // chat is the 20th
        Assert.All(acks.Where(a => a!["ok"]?.GetValue<bool>() != true), a => Assert.Contains("at most 20 rooms", a!["error"]!.GetValue<string>()));
        // The adapter holds Mallory's id room, session room, person room, chat and 19 others.
        Assert.True(Io.Sockets.Adapter.LocalRooms.Count <= rooms + 23, $"{Io.Sockets.Adapter.LocalRooms.Count - rooms} rooms");
        // Mallory is still served.
        Assert.True((await EmitAsync(mallory, "message", new { text = "still here" }))!["ok"]!.GetValue<bool>());
    }

    [Fact]
    public async Task One_user_posting_in_room_after_room_cannot_grow_the_history_past_its_cap()
    {
        var mallory = await ConnectAsUserAsync("Mallory");
        var text = new string('x', 2000);
        for (var i = 0; i < 300; i++)
        {
            var room = "cycle-" + i;
            Assert.True((await EmitAsync(mallory, "join", room))!["ok"]!.GetValue<bool>());
            Assert.True((await EmitAsync(mallory, "message", new { room, text }))!["ok"]!.GetValue<bool>());
            Assert.True((await EmitAsync(mallory, "leave", room))!["ok"]!.GetValue<bool>());
            Assert.True(History.MessageCount <= 100, $"{History.MessageCount} messages kept");
        }
        // The documented bound: at most MaxHistoryMessages messages of at most 2,000 characters, over every room.
        Assert.True(History.RoomCount <= 100);
        var bob = await ConnectAsUserAsync("Bob");
        var last = (await EmitAsync(bob, "join", "cycle-299"))!;
        Assert.Single(last["history"]!.AsArray());
        Assert.Empty((await EmitAsync(bob, "join", "cycle-0"))!["history"]!.AsArray());
    }

    [Theory]
    [InlineData("polling")]
    [InlineData("websocket")]
    public async Task Lone_surrogates_in_room_names_and_texts_are_answered_without_an_exception(string transport)
    {
        var ann = await ConnectAsUserAsync("Ann", transport);
        object Js(string json) => new JsonObject { ["$json"] = json };
        var joined = await _node.CallAsync("sio.emit", new { h = ann, @event = "join", args = new[] { Js("\"r\\udc00\"") }, ack = true, timeout = 10_000 });
        Assert.True(joined!["ok"]!.GetValue<bool>());
        var sent = await _node.CallAsync("sio.emit", new { h = ann, @event = "message", args = new[] { Js("{\"room\":\"r\\udc00\",\"text\":\"a\\ud800\"}") }, ack = true, timeout = 10_000 });
        Assert.True(sent!["ok"]!.GetValue<bool>());
        var message = (await _node.NextSocketEventAsync(ann, "message"))[0]!;
        Assert.Equal("r\ufffd", message["room"]!.GetValue<string>());
        Assert.Equal("a\ufffd", message["text"]!.GetValue<string>());
        await _node.CallAsync("sio.emit", new { h = ann, @event = Js("\"\\ud800\""), args = new[] { Js("\"\\udc00\"") } });
        await _node.CallAsync("sio.emit", new { h = ann, @event = "toServer", args = new[] { Js("\"\\udc00<\"") } });
        var html = (await _node.NextSocketEventAsync(ann, "toClient"))[0]!.GetValue<string>();
        Assert.Equal("<b>Ann:</b> \ufffd<<br>", System.Net.WebUtility.HtmlDecode(html));
        // Other tests run alongside: look for what lone surrogates used to cause (GetString's exception, handler failures).
        Assert.DoesNotContain(TestLog.Provider.Entries, e => e.Exception is InvalidEventArgumentException
            || (e.Exception?.Message.Contains("UTF-16", StringComparison.Ordinal) ?? false) || e.EventId.Id is 2004 or 2052);
    }
}

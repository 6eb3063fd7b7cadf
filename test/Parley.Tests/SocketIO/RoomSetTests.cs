using Parley.Adapters;

namespace Parley.Tests.SocketIO;

public sealed class RoomSetTests
{
    [Fact]
    public void Keeps_the_order_rooms_were_added_in_without_duplicates()
    {
        var rooms = RoomSet.Empty.Add("r2").Add("r1").Union(["r2", "r3", "r1"]);
        Assert.Equal(["r2", "r1", "r3"], rooms);
        Assert.True(rooms.Contains("r3"));
        Assert.False(rooms.Contains("R3"));
        Assert.True(rooms.SetEquals(["r1", "r2", "r3"]));
        Assert.Empty(RoomSet.Empty);
    }

    [Fact]
    public void Many_rooms_are_looked_up_by_hash_and_still_enumerate_in_order()
    {
        var names = Enumerable.Range(0, 100).Select(i => "room-" + (99 - i)).ToArray();
        var rooms = RoomSet.Empty.Union(names).Union(names);
        Assert.Equal(names, rooms);
        Assert.All(names, n => Assert.True(rooms.Contains(n)));
        Assert.False(rooms.Contains("room-100"));
        Assert.Same(rooms, rooms.Add("room-5"));
    }
}

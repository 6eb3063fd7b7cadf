using Parley.Adapters;

namespace Parley.Tests.Adapters;

/// <summary>RoomMembers behaves as a set of strings through every form it takes: empty, one member, array, hash set.</summary>
public sealed class RoomMembersTests
{
    [Theory]
    [InlineData(1, 3)]
    [InlineData(2, 8)]
    [InlineData(3, 12)]
    [InlineData(4, 40)]
    public void Matches_a_hash_set_under_random_adds_and_removes(int seed, int universe)
    {
        var random = new Random(seed);
        var members = new RoomMembers();
        var expected = new HashSet<string>(StringComparer.Ordinal);
        for (var step = 0; step < 5_000; step++)
        {
            // new string(...) so that equal members are different instances: comparison must be by value.
            var item = new string('r', 1) + random.Next(universe);
            if (random.Next(3) == 0)
            {
                Assert.Equal(expected.Remove(item), members.Remove(item));
            }
            else
            {
                Assert.Equal(expected.Add(item), members.Add(item));
            }
            Assert.Equal(expected.Count, members.Count);
            Assert.Equal(expected.Contains(item), members.Contains(item));
            var seen = new List<string>();
            foreach (var member in members)
            {
                seen.Add(member);
            }
            Assert.Equal(expected.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public void Empty_set_has_nothing()
    {
        var members = new RoomMembers();
        Assert.Equal(0, members.Count);
        Assert.False(members.Contains("a"));
        Assert.False(members.Remove("a"));
        Assert.False(members.GetEnumerator().MoveNext());
    }
}

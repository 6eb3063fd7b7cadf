using System.Text.Json;

namespace Parley.Tests.SocketIO;

/// <summary>
/// <see cref="EventArgument"/> tells binary by the decoder's placeholder rule (Parley.Protocol's PlaceholderReader,
/// socket.io-parser's <c>_reconstructPacket</c>): last key wins, <c>_placeholder</c> must be the literal true, and
/// <c>num</c> an integer below the attachment count.
/// </summary>
public sealed class PlaceholderRuleTests
{
    private static readonly ReadOnlyMemory<byte>[] s_one = [new byte[] { 1, 2, 3 }];

    [Theory]
    [InlineData("""{"_placeholder":true,"num":0}""", true)]
    [InlineData("""{"num":0,"_placeholder":true}""", true)]
    [InlineData("""{"_placeholder":true,"num":0,"_placeholder":false}""", false)]
    [InlineData("""{"_placeholder":false,"num":0,"_placeholder":true}""", true)]
    [InlineData("""{"_placeholder":"true","num":0}""", false)]
    [InlineData("""{"_placeholder":true,"num":1}""", false)]
    [InlineData("""{"_placeholder":true,"num":-1}""", false)]
    [InlineData("""{"_placeholder":true,"num":0.5}""", false)]
    [InlineData("""{"_placeholder":true,"num":"0"}""", false)]
    [InlineData("""[0]""", false)]
    public void An_argument_is_binary_by_the_decoders_rule(string json, bool binary)
    {
        using var doc = JsonDocument.Parse(json);
        var argument = new EventArgument(doc.RootElement, s_one);
        Assert.Equal(binary, argument.TryGetBytes(out var bytes));
        Assert.Equal(binary ? 3 : 0, bytes.Length);
    }
}

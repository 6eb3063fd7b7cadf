using System.Diagnostics.CodeAnalysis;

namespace Parley.MessagePack;

/// <summary>The one place that builds the codec's exceptions, so the hot paths stay small.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void Truncated(int position) =>
        throw new MessagePackFormatException($"msgpack input ends early at offset {position}");

    [DoesNotReturn]
    public static void TooLong(int position, ulong length) =>
        throw new MessagePackFormatException($"msgpack length {length} at offset {position} runs past the end of the input");

    [DoesNotReturn]
    public static void UnexpectedCode(int position, byte code, string expected) =>
        throw new MessagePackFormatException($"msgpack code 0x{code:x2} at offset {position} is not {expected}");

    [DoesNotReturn]
    public static void TooDeep(int maxDepth) =>
        throw new MessagePackFormatException($"msgpack nesting is deeper than {maxDepth}");

    [DoesNotReturn]
    public static void Format(string message) => throw new MessagePackFormatException(message);
}

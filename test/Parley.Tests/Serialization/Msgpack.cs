using System.Buffers;
using System.Text.Json;
using MessagePack;
using Parley.Serialization;

namespace Parley.Tests.Serialization;

/// <summary>Shorthands over the bridge and MessagePack-CSharp's writer for the test vectors.</summary>
internal static class Msgpack
{
    public delegate void WriteAction(ref MessagePackWriter writer);

    /// <summary>What <paramref name="write"/> writes, as lower-case hex.</summary>
    public static string Write(WriteAction write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        write(ref writer);
        writer.Flush();
        return Hex.Of(buffer.WrittenSpan);
    }

    public static byte[] FromJson(JsonElement json, IReadOnlyList<ReadOnlyMemory<byte>>? attachments = null)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        MessagePackJson.WriteMessagePack(ref writer, json, attachments ?? []);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    public static string FromJson(string json, IReadOnlyList<ReadOnlyMemory<byte>>? attachments = null)
    {
        using var document = JsonDocument.Parse(json);
        return Hex.Of(FromJson(document.RootElement, attachments));
    }

    /// <summary>The JSON text of the msgpack written as <see cref="Hex.Parse"/> notation.</summary>
    public static string Json(string hex, List<ReadOnlyMemory<byte>>? attachments = null) =>
        MessagePackJson.ToJsonElement(Hex.Parse(hex), attachments ?? []).GetRawText();
}

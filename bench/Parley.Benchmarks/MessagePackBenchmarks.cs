using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using MessagePack;
using Parley.Serialization;

namespace Parley.Benchmarks;

/// <summary>
/// The JSON↔msgpack bridge on a typical Redis broadcast (@socket.io/redis-adapter's
/// <c>[uid, {type, data, nsp}, {rooms, except, flags}]</c> with a chat message as data): encode from the payload's
/// JSON, and decode to JSON + attachments as a receiving node does.
/// </summary>
[MemoryDiagnoser]
public class MessagePackBenchmarks
{
    private readonly ArrayBufferWriter<byte> _output = new(4096);
    private byte[] _payloadJson = null!;
    private byte[] _broadcast = null!;

    [GlobalSetup]
    public void Setup()
    {
        _payloadJson = """["message",{"user":"alice","room":"chat","text":"a chat message of a typical size","ts":1733140800123,"n":42,"score":0.75}]"""u8.ToArray();
        _broadcast = EncodeBroadcast().ToArray();
    }

    private ReadOnlyMemory<byte> EncodeBroadcast()
    {
        _output.ResetWrittenCount();
        using var data = JsonDocument.Parse(_payloadJson);
        var w = new MessagePackWriter(_output);
        w.WriteArrayHeader(3);
        w.Write("mRyGlo");
        w.WriteMapHeader(3);
        w.Write("type");
        w.Write(2);
        w.Write("data");
        MessagePackJson.WriteMessagePack(ref w, data.RootElement, []);
        w.Write("nsp");
        w.Write("/");
        w.WriteMapHeader(3);
        w.Write("rooms");
        w.WriteArrayHeader(1);
        w.Write("chat");
        w.Write("except");
        w.WriteArrayHeader(0);
        w.Write("flags");
        w.WriteMapHeader(0);
        w.Flush();
        return _output.WrittenMemory;
    }

    [Benchmark(Description = "Redis broadcast encode (JSON payload → msgpack)")]
    public int BroadcastEncode() => EncodeBroadcast().Length;

    [Benchmark(Description = "Redis broadcast decode (msgpack → JSON)")]
    public JsonElement BroadcastDecode() => MessagePackJson.ToJsonElement(_broadcast, []);
}

using System.Buffers;
using BenchmarkDotNet.Attributes;
using Parley.Protocol.EngineIO;
using Parley.Protocol.SocketIO;
using Parley.Serialization;

namespace Parley.Benchmarks;

/// <summary>
/// The codecs of the older and other clients, next to the v4 / default-parser paths they stand beside: Engine.IO v3
/// polling payloads (socket.io-client 2.x) and msgpack packets (socket.io-msgpack-parser).
/// </summary>
[MemoryDiagnoser]
public class ClientCodecBenchmarks
{
    private readonly ArrayBufferWriter<byte> _output = new(64 * 1024);
    private readonly SocketPacketDecoder _decoder = new();
    private List<EnginePacket> _packets = null!;
    private byte[] _v4Payload = null!;
    private byte[] _v3TextPayload = null!;
    private byte[] _v3BinaryPayload = null!;
    private byte[] _eventText = null!;
    private byte[] _eventMsgpack = null!;
    private SocketPayload _payload = null!;
    private EnginePacket[] _frames = null!;

    [GlobalSetup]
    public void Setup()
    {
        // A poll's worth: ten chat messages and one binary attachment of 1 KB.
        _packets =
        [
            .. Enumerable.Range(0, 10).Select(i => EnginePacket.Message($"2[\"message\",{{\"user\":\"alice\",\"text\":\"message number {i} in the room\"}}]")),
            EnginePacket.Binary(Enumerable.Range(0, 1024).Select(i => (byte)i).ToArray()),
        ];
        _v4Payload = Encode(w => EnginePayload.Write(w, _packets));
        _v3TextPayload = Encode(w => EnginePayloadV3.Write(w, _packets, supportsBinary: false));
        _v3BinaryPayload = Encode(w => EnginePayloadV3.Write(w, _packets, supportsBinary: true));

        _eventText = """2["message",{"user":"alice","text":"a chat message of a typical size","n":42}]"""u8.ToArray();
        _decoder.Decode(_eventText, out var packet);
        _eventMsgpack = MessagePackPackets.Write(packet!);
        _payload = new SocketPayload("""["message",{"user":"alice","text":"a chat message of a typical size","n":42}]"""u8.ToArray(), null);
        _frames = _payload.Encode(SocketPacketType.Event, "/", ackId: null);
    }

    private static byte[] Encode(Action<ArrayBufferWriter<byte>> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(buffer);
        return buffer.WrittenSpan.ToArray();
    }

    [Benchmark(Baseline = true, Description = "v4 payload encode (10 text + 1 KB binary)")]
    public int V4PayloadEncode()
    {
        _output.ResetWrittenCount();
        EnginePayload.Write(_output, _packets);
        return _output.WrittenCount;
    }

    [Benchmark(Description = "v3 payload encode, text form (b64)")]
    public int V3PayloadEncodeText()
    {
        _output.ResetWrittenCount();
        EnginePayloadV3.Write(_output, _packets, supportsBinary: false);
        return _output.WrittenCount;
    }

    [Benchmark(Description = "v3 payload encode, binary form")]
    public int V3PayloadEncodeBinary()
    {
        _output.ResetWrittenCount();
        EnginePayloadV3.Write(_output, _packets, supportsBinary: true);
        return _output.WrittenCount;
    }

    [Benchmark(Description = "v4 payload decode")]
    public int V4PayloadDecode()
    {
        var count = 0;
        EnginePayload.TryRead(_v4Payload, 0, (_, _, _, data) => { count += data.Length; return true; });
        return count;
    }

    [Benchmark(Description = "v3 payload decode, text form")]
    public int V3PayloadDecodeText()
    {
        var count = 0;
        EnginePayloadV3.TryRead(_v3TextPayload, isBinaryPayload: false, 0, (_, _, _, data) => { count += data.Length; return true; });
        return count;
    }

    [Benchmark(Description = "v3 payload decode, binary form")]
    public int V3PayloadDecodeBinary()
    {
        var count = 0;
        EnginePayloadV3.TryRead(_v3BinaryPayload, isBinaryPayload: true, 0, (_, _, _, data) => { count += data.Length; return true; });
        return count;
    }

    [Benchmark(Description = "event decode, default parser")]
    public SocketPacket? DefaultDecode()
    {
        _decoder.Decode(_eventText, out var packet);
        return packet;
    }

    [Benchmark(Description = "event decode, msgpack")]
    public SocketPacket? MsgpackDecode() => MessagePackPackets.Decode(_eventMsgpack, 10, 32, out _);

    [Benchmark(Description = "event encode, default parser")]
    public EnginePacket[] DefaultEncode() => _payload.Encode(SocketPacketType.Event, "/", ackId: null);

    [Benchmark(Description = "event encode, msgpack (from the default frames)")]
    public EnginePacket MsgpackEncode() => MessagePackPackets.Transcode(_frames);

    [Benchmark(Description = "event, msgpack form of a shared broadcast (cached)")]
    public EnginePacket MsgpackShared() => MessagePackPackets.Encode(_frames);

    [Benchmark(Description = "binary frame, v3 WebSocket form of a shared broadcast")]
    public int V3FrameShared() => _packets[^1].V3Frame.Length;
}

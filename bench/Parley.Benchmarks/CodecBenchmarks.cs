using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.Protocol.SocketIO;
using Parley.Serialization;

namespace Parley.Benchmarks;

/// <summary>The Socket.IO packet codec: decoding what clients send, encoding what the server emits.</summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private readonly SocketPacketDecoder _decoder = new();
    private byte[] _small = null!;
    private byte[] _oneKb = null!;
    private byte[] _binaryHeader = null!;
    private byte[] _attachment = null!;
    private ParleyServer _server = null!;
    private object?[] _args = null!;

    [GlobalSetup]
    public void Setup()
    {
        _small = """2["message",1,"2",{"3":[true]}]"""u8.ToArray();
        var text = new string('x', 1000);
        _oneKb = Encoding.UTF8.GetBytes($"2[\"message\",{{\"text\":\"{text}\",\"n\":1}}]");
        _binaryHeader = """51-["upload",{"name":"a.bin","data":{"_placeholder":true,"num":0}}]"""u8.ToArray();
        _attachment = new byte[256];
        _server = new ParleyServer(new ParleyOptions(), NullLoggerFactory.Instance);
        _args = [1, "2", new Dictionary<string, bool[]> { ["3"] = [true] }];
    }

    [Benchmark(Description = "decode 42[\"message\",1,\"2\",{\"3\":[true]}]")]
    public SocketPacket? DecodeSmall()
    {
        _decoder.Decode(_small, out var packet);
        return packet;
    }

    [Benchmark(Description = "decode 1 KB event")]
    public SocketPacket? DecodeOneKb()
    {
        _decoder.Decode(_oneKb, out var packet);
        return packet;
    }

    [Benchmark(Description = "decode binary event (1 attachment, 256 B)")]
    public SocketPacket? DecodeBinary()
    {
        _decoder.Decode(_binaryHeader, out _);
        _decoder.AddAttachment(_attachment, out var packet);
        return packet;
    }

    [Benchmark(Description = "encode event: SocketPayload.Create + Encode")]
    public object Encode()
    {
        var payload = SocketPayload.Create("message", _args, _server.WireOptions);
        return payload.Encode(SocketPacketType.Event, "/", ackId: null);
    }
}

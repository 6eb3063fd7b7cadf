using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.EngineIO;
using Parley.Protocol.EngineIO;

namespace Parley.Benchmarks;

/// <summary>
/// One <c>io.EmitAsync</c> to 1,000 sockets connected in process, without network: each socket's Engine.IO
/// connection is a real <see cref="EngineConnection"/> that no transport drains, fed a CONNECT through the same
/// <c>MessageReceived</c> callback the transports use. No seam was added to src/Parley for this: the benchmark
/// empties each connection's outgoing queue after every broadcast through <see cref="UnsafeAccessorAttribute"/>
/// (zero-allocation field access), so queues keep their capacity and never overflow. That emptying is part of the
/// measured time; <see cref="DrainOnly"/> measures it alone.
/// </summary>
[MemoryDiagnoser]
public class BroadcastBenchmarks
{
    private const int Sockets = 1_000;
    private ParleyServer _server = null!;
    private EngineConnection[] _connections = null!;
    private object?[] _args = null!;

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_outbox")]
    private static extern ref List<EnginePacket> Outbox(EngineConnection connection);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_outboxBytes")]
    private static extern ref long OutboxBytes(EngineConnection connection);

    [GlobalSetup]
    public void Setup()
    {
        var options = new ParleyOptions();
        options.Engine.PingInterval = TimeSpan.FromHours(1);
        options.Engine.PingTimeout = TimeSpan.FromHours(1);
        options.ConnectTimeout = TimeSpan.FromHours(1);
        _server = new ParleyServer(options, NullLoggerFactory.Instance);
        var engine = _server.Attach();
        _ = _server.Sockets; // MapParley creates "/" the same way
        _connections = new EngineConnection[Sockets];
        var handshake = new EngineHandshake(new DefaultHttpContext(), DateTimeOffset.UtcNow);
        for (var i = 0; i < Sockets; i++)
        {
            var connection = new EngineConnection(engine, EngineServer.GenerateId(), EngineTransport.WebSocket, handshake);
            _ = new SocketClient(_server, connection);
            connection.MessageReceived!(connection, new EngineMessage("0"u8, isBinary: false));
            _connections[i] = connection;
        }
        var sockets = _server.Sockets.Sockets.Values.ToArray();
        if (sockets.Length != Sockets)
        {
            throw new InvalidOperationException($"{sockets.Length} sockets connected, expected {Sockets}");
        }
        for (var i = 0; i < 100; i++)
        {
            sockets[i].Join("room-100");
        }
        _args = ["hello", 42, new { text = "a chat message of a typical size", user = "alice" }];
        Drain();
    }

    private void Drain()
    {
        foreach (var connection in _connections)
        {
            Outbox(connection).Clear();
            OutboxBytes(connection) = 0;
        }
    }

    [Benchmark(Description = "io.EmitAsync to 1,000 sockets")]
    public Task EmitToAll()
    {
        var task = _server.EmitAsync("message", _args);
        Drain();
        return task;
    }

    [Benchmark(Description = "io.To(room of 100).EmitAsync")]
    public Task EmitToRoom()
    {
        var task = _server.To("room-100").EmitAsync("message", _args);
        Drain();
        return task;
    }

    [Benchmark(Description = "emptying the 1,000 queues only (baseline)")]
    public void DrainOnly() => Drain();

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var connection in _connections)
        {
            connection.Close();
        }
    }
}

// A Socket.IO node on the Redis adapter for cross-node measurements (the twin of bench/js/cluster-server.mjs):
//   dotnet bench/Parley.ClusterServer/bin/Release/net10.0/Parley.ClusterServer.dll --urls http://127.0.0.1:3201 --redis redis://127.0.0.1:6399 [--sharded true | --streams true]
// A client's "bcast" (payload, ack) makes this node emit "msg" (payload) to every client of every node, then ack:
// one encode, local sockets first, one PUBLISH. bench/cross-node.sh runs two of these and bench/js/cross-node-load.mjs.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var redis = builder.Configuration["redis"] ?? "redis://127.0.0.1:6379";
var sharded = string.Equals(builder.Configuration["sharded"], "true", StringComparison.OrdinalIgnoreCase);
var streams = string.Equals(builder.Configuration["streams"], "true", StringComparison.OrdinalIgnoreCase);
if (streams)
{
    builder.Services.AddParley().AddRedisStreams(redis);
}
else
{
    builder.Services.AddParley().AddRedis(redis, o => o.Sharded = sharded);
}
var app = builder.Build();
app.MapParley("/socket.io", io => io.OnConnection(socket => socket.On("bcast", async e =>
{
    await io.EmitAsync("msg", e.Arguments[0]);
    if (e.HasAck)
    {
        await e.AckAsync();
    }
})));
await app.StartAsync();
// Ready means subscribed: a load started now loses nothing to start-up.
await app.Services.GetRequiredService<Parley.Redis.RedisAdapterStatus>().WaitUntilReadyAsync();
Console.WriteLine("ready");
await app.WaitForShutdownAsync();

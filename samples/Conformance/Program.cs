// The server the official protocol test suites expect (socketio/engine.io-protocol and socket.io-protocol,
// test-suite/): on http://localhost:3000, pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1,000,000, CORS open.
//   dotnet run --project samples/Conformance -- --urls http://127.0.0.1:3000
using Parley.EngineIO;
using Parley.Protocol.EngineIO;

var builder = WebApplication.CreateSlimBuilder(args);
if (builder.Configuration["urls"] is null && Environment.GetEnvironmentVariable("ASPNETCORE_URLS") is null)
{
    builder.WebHost.UseUrls("http://127.0.0.1:3000");
}
builder.Services.AddParley(o =>
{
    o.Engine = ConformanceOptions();
    o.ConnectTimeout = TimeSpan.FromMilliseconds(1000);
});
var app = builder.Build();

// A raw Engine.IO echo server: every message, text or binary, goes back unchanged.
app.MapEngineIO("/engine.io", ConformanceOptions(), connection =>
{
    connection.MessageReceived = static (c, message) =>
        c.Send(message.IsBinary
            ? EnginePacket.Binary(message.Data.ToArray())
            : EnginePacket.Text(EnginePacketType.Message, message.Data));
});

// The socket.io-protocol suite's server: namespaces / and /custom, "auth" echoed on connection, "message" echoed
// as "message-back", "message-with-ack" answered through the ack; any other namespace is refused.
app.MapParley("/socket.io", io =>
{
    io.OnConnection(socket =>
    {
        socket.EmitAsync("auth", socket.Handshake.Auth);
        socket.On("message", e => socket.EmitAsync("message-back", e.ArgumentsForEmit()));
        socket.On("message-with-ack", e => e.AckAsync(e.ArgumentsForEmit()));
    });
    io.Of("/custom").OnConnection(socket => socket.EmitAsync("auth", socket.Handshake.Auth));
});

app.Run();

static EngineOptions ConformanceOptions() => new()
{
    PingInterval = TimeSpan.FromMilliseconds(300),
    PingTimeout = TimeSpan.FromMilliseconds(200),
    MaxHttpBufferSize = 1_000_000,
    Cors = new EngineCorsOptions { Origins = ["*"] },
};

// A raw Engine.IO echo server for load measurements (the twin of test/js/eio-echo-server.mjs):
//   PING_INTERVAL=25000 PING_TIMEOUT=20000 dotnet run -c Release --project bench/Parley.EchoServer -- --urls http://127.0.0.1:3100
// Heartbeats default to engine.io's (25 s / 20 s); the conformance host's 300/200 ms make a loaded client miss pongs.
using System.Globalization;
using Parley.EngineIO;
using Parley.Protocol.EngineIO;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var app = builder.Build();
app.UseWebSockets();

static int Int(string name, int fallback) =>
    int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : fallback;
static TimeSpan Ms(string name, int fallback) => TimeSpan.FromMilliseconds(Int(name, fallback));

app.MapEngineIO("/engine.io", new EngineOptions
{
    PingInterval = Ms("PING_INTERVAL", 25_000),
    PingTimeout = Ms("PING_TIMEOUT", 20_000),
    MaxHttpBufferSize = 1_000_000,
    Cors = new EngineCorsOptions { Origins = ["*"] },
    // DEFLATE=1 negotiates per-message deflate (bench/js/deflate-memory.mjs measures what it costs per connection).
    PerMessageDeflate = Environment.GetEnvironmentVariable("DEFLATE") == "1",
    PerMessageDeflateWindowBits = Int("DEFLATE_WINDOW_BITS", 15),
    PerMessageDeflateContextTakeover = Environment.GetEnvironmentVariable("DEFLATE_NO_TAKEOVER") != "1",
}, connection =>
{
    connection.MessageReceived = static (c, message) =>
        c.Send(message.IsBinary
            ? EnginePacket.Binary(message.Data.ToArray())
            : EnginePacket.Text(EnginePacketType.Message, message.Data));
});

app.Run();

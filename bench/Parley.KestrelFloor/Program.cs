// The platform's floor (bench/kestrel-floor.sh, docs/capacity.md "The platform's floor"): an idle WebSocket held by
// ASP.NET Core and Kestrel with no Parley code, so a measurement shows what the platform itself costs per connection.
//   dotnet bin/Release/net10.0/Parley.KestrelFloor.dll --mode aspnet --port 5951
//   dotnet bin/Release/net10.0/Parley.KestrelFloor.dll --mode connection --port 5952 --control-port 5953
// aspnet:     UseWebSockets and an endpoint at /ws that accepts the upgrade inside its HTTP request (as Parley does
//             today), so Kestrel's HTTP/1 connection and the request live as long as the WebSocket.
// connection: a Kestrel connection handler below the HTTP layer answers the upgrade itself and runs the WebSocket over
//             the transport's pipe (WebSocketUpgradeHandler, a measurement spike, not production code); /gc and
//             /healthz are then served on --control-port.
// --no-hosting-log turns off the hosting diagnostics logger, which alone makes every request carry an Activity.
// Both read with a zero-byte read first, then a small pooled buffer (FloorReceiveLoop). GET /gc reports the GC's
// view of the heap; /gc?collect=1 forces a full blocking compacting collection first (live bytes).
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Parley.KestrelFloor;

var mode = Arg("--mode") ?? "aspnet";
var port = int.Parse(Arg("--port") ?? "5951", CultureInfo.InvariantCulture);
if (mode is not ("aspnet" or "connection"))
{
    Console.Error.WriteLine($"--mode must be aspnet or connection, not '{mode}'");
    return 2;
}

var builder = WebApplication.CreateSlimBuilder();
// Log levels as the ASP.NET Core templates (and Parley.Chat) ship them: Microsoft.AspNetCore at Warning.
builder.Logging.SetMinimumLevel(LogLevel.Information);
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
if (args.Contains("--no-hosting-log"))
{
    // ASP.NET Core's hosting starts an Activity for every request whose "Microsoft.AspNetCore.Hosting.Diagnostics"
    // logger is enabled at all (HostingApplicationDiagnostics.BeginRequest in dotnet/aspnetcore), tracing or not;
    // a WebSocket's request keeps it for the socket's life. With the logger off and no tracing listener, none is made.
    builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
}
builder.WebHost.ConfigureKestrel(kestrel =>
{
    if (mode == "aspnet")
    {
        kestrel.Listen(IPAddress.Loopback, port);
    }
    else
    {
        kestrel.Listen(IPAddress.Loopback, port, listen => listen.UseConnectionHandler<WebSocketUpgradeHandler>());
        kestrel.Listen(IPAddress.Loopback, int.Parse(Arg("--control-port") ?? (port + 1).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture));
    }
});

var app = builder.Build();
// Resolved once: context.RequestServices would open a DI scope per request, kept for the socket's life.
var loopLogger = app.Services.GetRequiredService<ILogger<WebSocketUpgradeHandler>>();
app.MapGet("/healthz", () => "ok");
app.MapGet("/gc", GcStats.WriteAsync);
if (mode == "aspnet")
{
    app.UseWebSockets();
    app.Map("/ws", async context =>
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        // No keep-alive pings: ASP.NET Core's default (2 min) gives each socket a timer; Parley turns it off too.
        using var ws = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = TimeSpan.Zero });
        await FloorReceiveLoop.RunAsync(ws, loopLogger);
    });
}

Console.WriteLine($"floor: mode {mode}, port {port}, server GC {System.Runtime.GCSettings.IsServerGC}, latency mode {System.Runtime.GCSettings.LatencyMode} (Interactive = concurrent GC, Batch = not)");
app.Run();
return 0;

string? Arg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

// Parley.LoadTest: a load client for an Engine.IO v4 server over WebSocket (Parley, or Node's engine.io).
//
//   dotnet run -c Release --project bench/Parley.LoadTest -- idle --url http://127.0.0.1:3000/engine.io/ --connections 2000
//   dotnet run -c Release --project bench/Parley.LoadTest -- echo --url http://127.0.0.1:3000/engine.io/ --size 32 --inflight 100 --duration 10
//
// idle: opens N connections (answering the server's pings), holds them for --duration seconds, reports how many
//       opened; with --server-pid (same machine only) it also reports the server's RSS growth per connection.
// echo: on each of N connections keeps --inflight messages of --size bytes in flight against an echo server and
//       reports echoed messages per second.
// Bounded on purpose: at most 50,000 connections and 600 seconds.
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;

var mode = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "help";
string Arg(string name, string fallback)
{
    var i = Array.IndexOf(args, "--" + name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}
if (mode is not ("idle" or "echo"))
{
    Console.WriteLine("usage: Parley.LoadTest idle|echo --url http://host:port/engine.io/ [--connections N] [--duration S] [--size BYTES] [--inflight N] [--server-pid PID] [--ramp N]");
    return 2;
}

var url = new Uri(Arg("url", "http://127.0.0.1:3000/engine.io/"));
var connections = Math.Clamp(int.Parse(Arg("connections", mode == "idle" ? "1000" : "1"), CultureInfo.InvariantCulture), 1, 50_000);
var duration = TimeSpan.FromSeconds(Math.Clamp(double.Parse(Arg("duration", "10"), CultureInfo.InvariantCulture), 1, 600));
var size = Math.Clamp(int.Parse(Arg("size", "32"), CultureInfo.InvariantCulture), 1, 1_000_000);
var inflight = Math.Clamp(int.Parse(Arg("inflight", "100"), CultureInfo.InvariantCulture), 1, 10_000);
var ramp = Math.Clamp(int.Parse(Arg("ramp", "200"), CultureInfo.InvariantCulture), 1, 10_000); // concurrent handshakes
int? serverPid = Arg("server-pid", "") is { Length: > 0 } p ? int.Parse(p, CultureInfo.InvariantCulture) : null;

var wsScheme = url.Scheme == "https" ? "wss" : "ws";
var path = url.AbsolutePath.EndsWith('/') ? url.AbsolutePath : url.AbsolutePath + "/";
var wsUri = new Uri($"{wsScheme}://{url.Authority}{path}?EIO=4&transport=websocket");
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };

long? RssKb()
{
    if (serverPid is null)
    {
        return null;
    }
    foreach (var line in File.ReadLines($"/proc/{serverPid}/status"))
    {
        if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
        {
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
    }
    return null;
}

async Task<ClientWebSocket> OpenAsync(CancellationToken ct)
{
    var ws = new ClientWebSocket();
    ws.Options.KeepAliveInterval = TimeSpan.Zero;
    await ws.ConnectAsync(wsUri, ct);
    var buffer = new byte[1024];
    var open = await ws.ReceiveAsync(buffer, ct);
    if (open.Count == 0 || buffer[0] != (byte)'0')
    {
        throw new InvalidOperationException("no Engine.IO open packet");
    }
    return ws;
}

// Reads until the socket ends: answers pings, hands messages to onMessage.
async Task ReadLoopAsync(ClientWebSocket ws, Action? onMessage, CancellationToken ct)
{
    var buffer = new byte[Math.Max(4096, size + 16)];
    try
    {
        while (!ct.IsCancellationRequested)
        {
            var r = await ws.ReceiveAsync(buffer.AsMemory(), ct);
            if (r.MessageType == WebSocketMessageType.Close)
            {
                return;
            }
            var total = r.Count;
            while (!r.EndOfMessage)
            {
                r = await ws.ReceiveAsync(buffer.AsMemory(Math.Min(total, buffer.Length - 1)), ct);
                total += r.Count;
            }
            if (r.MessageType == WebSocketMessageType.Text && total == 1 && buffer[0] == (byte)'2')
            {
                await SendAsync(ws, "3"u8.ToArray(), ct);
                continue;
            }
            onMessage?.Invoke();
        }
    }
    catch (Exception e) when (e is OperationCanceledException or WebSocketException)
    {
    }
}

var sendLocks = new System.Runtime.CompilerServices.ConditionalWeakTable<ClientWebSocket, SemaphoreSlim>();
async Task SendAsync(ClientWebSocket ws, ReadOnlyMemory<byte> frame, CancellationToken ct)
{
    var gate = sendLocks.GetValue(ws, _ => new SemaphoreSlim(1, 1));
    await gate.WaitAsync(ct);
    try
    {
        await ws.SendAsync(frame, WebSocketMessageType.Text, true, ct);
    }
    finally
    {
        gate.Release();
    }
}

var sockets = new List<ClientWebSocket>(connections);
var loops = new List<Task>(connections);
long failures = 0;
var rssBefore = RssKb();
var opening = Stopwatch.StartNew();
using (var gate = new SemaphoreSlim(ramp))
{
    var opens = Enumerable.Range(0, connections).Select(async _ =>
    {
        await gate.WaitAsync(stop.Token);
        try
        {
            var ws = await OpenAsync(stop.Token);
            if (mode == "idle")
            {
                // Answer pings from the start: a connection that waits for the whole ramp would time out.
                lock (loops)
                {
                    loops.Add(ReadLoopAsync(ws, null, stop.Token));
                }
            }
            return ws;
        }
        catch (Exception e) when (e is WebSocketException or InvalidOperationException or OperationCanceledException)
        {
            Interlocked.Increment(ref failures);
            return null;
        }
        finally
        {
            gate.Release();
        }
    }).ToArray();
    foreach (var ws in await Task.WhenAll(opens))
    {
        if (ws is not null)
        {
            sockets.Add(ws);
        }
    }
}
Console.WriteLine($"opened {sockets.Count} of {connections} connections in {opening.Elapsed.TotalSeconds:F1} s ({failures} failed)");

if (mode == "idle")
{
    var settle = TimeSpan.FromSeconds(Math.Min(5, duration.TotalSeconds));
    await Task.Delay(settle, stop.Token).ContinueWith(_ => { });
    var rssOpen = RssKb();
    await Task.Delay(duration - settle, stop.Token).ContinueWith(_ => { });
    var still = sockets.Count(s => s.State == WebSocketState.Open);
    Console.WriteLine($"still open after {duration.TotalSeconds:F0} s: {still}");
    if (rssBefore is { } before && rssOpen is { } after)
    {
        Console.WriteLine($"server RSS: {before / 1024.0:F1} MB before, {after / 1024.0:F1} MB with {sockets.Count} open; " +
            $"{(after - before) * 1024.0 / Math.Max(1, sockets.Count) / 1024.0:F1} KB per connection");
    }
}
else
{
    long echoed = 0;
    var payload = Encoding.ASCII.GetBytes("4" + new string('x', size));
    var window = Stopwatch.StartNew();
    using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
    deadline.CancelAfter(duration);
    foreach (var ws in sockets)
    {
        // A window of `inflight` messages: each echo lets one more go.
        var credits = new SemaphoreSlim(inflight, inflight);
        loops.Add(ReadLoopAsync(ws, () => { Interlocked.Increment(ref echoed); credits.Release(); }, deadline.Token));
        loops.Add(Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    await credits.WaitAsync(deadline.Token);
                    await SendAsync(ws, payload, deadline.Token);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or WebSocketException)
            {
            }
        }));
    }
    await Task.Delay(duration, stop.Token).ContinueWith(_ => { });
    var seconds = window.Elapsed.TotalSeconds;
    var total = Interlocked.Read(ref echoed);
    Console.WriteLine($"echoed {total} messages of {size} bytes in {seconds:F1} s on {sockets.Count} connection(s), " +
        $"{inflight} in flight each: {total / seconds:F0} msg/s");
    deadline.Cancel();
}

stop.Cancel();
foreach (var ws in sockets)
{
    ws.Abort();
    ws.Dispose();
}
await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { });
return 0;

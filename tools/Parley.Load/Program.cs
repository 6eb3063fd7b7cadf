// parley-load: load for any Engine.IO v4 / Socket.IO v5 server (Parley's chat, your own Parley app, Node's
// socket.io), from one process that speaks the protocol itself, so one core drives tens of thousands of clients.
//   dotnet run -c Release --project tools/Parley.Load -- connect --url http://127.0.0.1:5000 --connections 10000 \
//       --login-url http://127.0.0.1:5000/login --duration 30 --server-pid 1234
//   … handshake --connections 2000 --concurrency 50 …    … fanout --connections 500 --senders 10 --rate 0 …
// See README.md ("Load tool") for every option; `--help` on each command lists them.
using System.CommandLine;
using Parley.Load;
using Spectre.Console;

var url = new Option<string>("--url") { Description = "The server's base URL.", DefaultValueFactory = _ => "http://127.0.0.1:5000" };
var path = new Option<string>("--path") { Description = "The Engine.IO path.", DefaultValueFactory = _ => "/socket.io/" };
var nsp = new Option<string>("--namespace") { Description = "The Socket.IO namespace to connect.", DefaultValueFactory = _ => "/" };
var transport = new Option<string>("--transport") { Description = "websocket, or polling (HTTP long-polling only).", DefaultValueFactory = _ => "websocket" };
transport.AcceptOnlyFromAmong("websocket", "polling");
var loginUrl = new Option<string?>("--login-url") { Description = "Log each client in first: POST the JSON body here and keep the cookies it sets (e.g. the chat's /login)." };
var loginBody = new Option<string>("--login-body") { Description = "The login's JSON body; {i} becomes the client's number.", DefaultValueFactory = _ => """{"name":"load{i}"}""" };
var connections = new Option<int>("--connections", "-n") { Description = $"Clients held (connect, fanout, echo) or handshakes made (handshake); at most {LoadSettings.MaxConnections}.", DefaultValueFactory = _ => 100 };
var concurrency = new Option<int>("--concurrency", "-c") { Description = "Handshakes in flight at once.", DefaultValueFactory = _ => 50 };
var duration = new Option<double>("--duration", "-d") { Description = "Seconds of the measured phase (connect: the idle hold; fanout/echo: the sending).", DefaultValueFactory = _ => 10 };
var settle = new Option<double>("--settle") { Description = "Seconds between the ramp and the measured phase.", DefaultValueFactory = _ => 3 };
var maxTime = new Option<double>("--max-time") { Description = "The run stops after this many seconds, whatever is left.", DefaultValueFactory = _ => 1200 };
var senders = new Option<int>("--senders") { Description = "fanout: clients that send.", DefaultValueFactory = _ => 10 };
var rate = new Option<double>("--rate") { Description = "fanout: messages per second per sender; 0 = as fast as acks allow.", DefaultValueFactory = _ => 0 };
var window = new Option<int>("--window") { Description = "echo, and fanout at --rate 0: emits in flight per sending client.", DefaultValueFactory = _ => 1 };
var eventName = new Option<string>("--event") { Description = "The event emitted (fanout, echo), with an ack.", DefaultValueFactory = _ => "message" };
var data = new Option<string>("--data") { Description = "The event's argument (JSON); $ts becomes a send-time marker that timestamps deliveries.", DefaultValueFactory = _ => """{"text":"$ts"}""" };
var serverPid = new Option<int?>("--server-pid") { Description = "The server's process id (same machine, Linux): report its RSS and CPU." };
var json = new Option<FileInfo?>("--json") { Description = "Write the results (with a per-second timeline) to this JSON file." };
var chart = new Option<FileInfo?>("--chart") { Description = "Write a latency-over-time chart to this HTML file." };
var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress line each second." };

Option[] common = [url, path, nsp, transport, loginUrl, loginBody, connections, concurrency, duration, settle, maxTime, serverPid, json, chart, quiet];
var root = new RootCommand("parley-load: load and measure an Engine.IO v4 / Socket.IO v5 server (Parley, Node socket.io). Bounded in connections and time; stops by itself.");

Command Scenario(string name, string description, params Option[] extra)
{
    var command = new Command(name, description);
    foreach (var option in common.Concat(extra))
    {
        command.Add(option);
    }
    command.SetAction(async (parse, ct) =>
    {
        // Scenario options a command does not have keep the settings' defaults.
        var defaults = new LoadSettings();
        T Value<T>(Option<T> option, T fallback) => command.Options.Contains(option) ? parse.GetValue(option)! : fallback;
        var settings = new LoadSettings
        {
            Scenario = name,
            Connections = parse.GetValue(connections),
            Concurrency = parse.GetValue(concurrency),
            Duration = TimeSpan.FromSeconds(parse.GetValue(duration)),
            Settle = TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(settle))),
            MaxTime = TimeSpan.FromSeconds(parse.GetValue(maxTime)),
            Senders = Value(senders, defaults.Senders),
            Rate = Value(rate, defaults.Rate),
            Window = Value(window, defaults.Window),
            Event = Value(eventName, defaults.Event),
            Data = Value(data, defaults.Data),
            Progress = !parse.GetValue(quiet),
        };
        if (settings.Validate() is { } error)
        {
            Console.Error.WriteLine(error);
            return 2;
        }
        if (!Uri.TryCreate(parse.GetValue(url), UriKind.Absolute, out var baseUrl) ||
            (parse.GetValue(loginUrl) is { } l && !Uri.TryCreate(l, UriKind.Absolute, out _)))
        {
            Console.Error.WriteLine("--url and --login-url must be absolute URLs");
            return 2;
        }
        var login = parse.GetValue(loginUrl) is { } lu ? new Uri(lu) : null;
        using var target = new LoadTarget(baseUrl, parse.GetValue(path)!, parse.GetValue(nsp)!,
            parse.GetValue(transport) == "polling", login, parse.GetValue(loginBody)!);
        var runner = new LoadRunner(target, settings, new ServerProbe(parse.GetValue(serverPid)), settings.Progress ? Console.Out : null);
        var result = await runner.RunAsync(ct);
        LoadReport.WriteTable(AnsiConsole.Console, result);
        if (parse.GetValue(json) is { } jsonFile)
        {
            await LoadReport.WriteJsonAsync(jsonFile.FullName, result);
        }
        if (parse.GetValue(chart) is { } chartFile)
        {
            await LoadReport.WriteChartAsync(chartFile.FullName, result);
        }
        // Exit code 1 when a client failed, so scripts notice.
        return result.ErrorCount == 0 ? 0 : 1;
    });
    return command;
}

root.Add(Scenario("connect", "Ramp to --connections clients and hold them idle for --duration (server RSS per connection, idle CPU)."));
root.Add(Scenario("handshake", "Make --connections handshakes (login + connect + namespace CONNECT), --concurrency at a time, each closed once connected."));
root.Add(Scenario("fanout", "Hold --connections clients; --senders of them emit --event with an ack at --rate (0: as fast as acks allow); every copy received is a delivery.", senders, rate, window, eventName, data));
root.Add(Scenario("echo", "Hold --connections clients, each keeping --window emits of --event in flight; an ack is an operation, timed from its emit.", window, eventName, data));
return await root.Parse(args).InvokeAsync();

using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using Parley.Testing;

namespace Parley.Chat.Tests;

/// <summary>
/// Run alone: an OpenTelemetry exporter listens to meters by name, process-wide, so a chat host of another test running
/// at the same time would add its connections to the gauges this class reads.
/// </summary>
[CollectionDefinition(nameof(ChatOperationsTests), DisableParallelization = true)]
public sealed class ChatOperationsCollection;

/// <summary>
/// What an operator sees of a running chat: Prometheus metrics at <c>/metrics</c> (Parley's meters, ASP.NET Core's
/// and the runtime's) on real chat traffic, <c>/healthz</c>, <c>/readyz</c> with each dependency (Redis, the session
/// store, PostgreSQL) and its failure, and the logging defaults.
/// </summary>
[Collection(nameof(ChatOperationsTests))]
public sealed class ChatOperationsTests : IClassFixture<PostgresServer>
{
    private readonly PostgresServer _postgres;

    public ChatOperationsTests(PostgresServer postgres) => _postgres = postgres;

    [Fact]
    public async Task Metrics_are_scraped_at_metrics_after_real_chat_traffic()
    {
        await using var chat = await ChatHost.StartAsync();
        await using var node = NodeDriver.Start();
        var cookie = await chat.LoginAsync("Ann");
        var h = await node.CallForHandleAsync("sio.connect", new { url = chat.Url, opts = new { transports = new[] { "websocket" }, extraHeaders = new { cookie } } });
        await node.NextEventAsync(h, "connect");
        var ack = await node.CallAsync("sio.emit", new { h, @event = "message", args = new object[] { new { text = "measured" } }, ack = true, timeout = 5000 });
        Assert.True(ack!["ok"]!.GetValue<bool>());

        var (http, _) = chat.NewClient();
        using (http)
        {
            string scrape = "";
            // The exporter caches a scrape briefly; poll until this traffic shows.
            await TestTimeouts.Eventually(async () =>
            {
                var response = await http.GetAsync("/metrics");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                scrape = await response.Content.ReadAsStringAsync();
                return scrape.Contains("engineio_transport=\"websocket\"", StringComparison.Ordinal) &&
                    scrape.Contains("parley_socketio_broadcast_deliveries_total{", StringComparison.Ordinal);
            }, because: "the chat's traffic in /metrics");
            Assert.Matches("(?m)^parley_engineio_connections\\{[^}]*engineio_transport=\"websocket\"[^}]*\\} 1( |$)", scrape);
            Assert.Matches("(?m)^parley_socketio_connections\\{[^}]*socketio_namespace=\"/\"[^}]*\\} 1( |$)", scrape);
            Assert.Contains("parley_sessions_store_operations_total{", scrape, StringComparison.Ordinal);
            Assert.Contains("parley_sessions_store_duration_seconds_bucket{", scrape, StringComparison.Ordinal);
            Assert.Contains("http_server_request_duration_seconds_bucket{", scrape, StringComparison.Ordinal); // ASP.NET Core
            Assert.Contains("dotnet_gc_heap_total_allocated_bytes_total", scrape, StringComparison.Ordinal); // the runtime
        }
        await node.CallAsync("sio.disconnect", new { h });
    }

    [Fact]
    public async Task Healthz_is_alive_and_readyz_reports_the_memory_store_as_standard_health_json()
    {
        await using var chat = await ChatHost.StartAsync();
        var (http, _) = chat.NewClient();
        using (http)
        {
            Assert.Equal("ok", await http.GetStringAsync("/healthz"));
            var ready = await http.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Equal("application/json", ready.Content.Headers.ContentType!.MediaType);
            var report = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
            Assert.Equal("Healthy", report["status"]!.GetValue<string>());
            Assert.True(TimeSpan.TryParse(report["totalDuration"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture, out _));
            var entries = report["entries"]!.AsObject();
            Assert.Equal(["session-store"], entries.Select(e => e.Key));
            Assert.Equal("Healthy", entries["session-store"]!["status"]!.GetValue<string>());
            Assert.Equal("ready", entries["session-store"]!["tags"]![0]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Readyz_checks_Redis_and_the_Redis_session_store_and_fails_when_Redis_goes_away()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var chat = await ChatHost.StartAsync("--redis", redis.Url);
        var (http, _) = chat.NewClient();
        using (http)
        {
            JsonNode report = null!;
            await TestTimeouts.Eventually(async () =>
            {
                var ready = await http.GetAsync("/readyz");
                report = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
                return ready.StatusCode == HttpStatusCode.OK;
            }, because: "the node gets ready");
            Assert.Equal(["redis", "session-store"], report["entries"]!.AsObject().Select(e => e.Key).Order());
            Assert.Equal("Healthy", report["entries"]!["redis"]!["status"]!.GetValue<string>());

            await redis.KillAsync();
            await TestTimeouts.Eventually(async () =>
            {
                var ready = await http.GetAsync("/readyz");
                report = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
                return ready.StatusCode == HttpStatusCode.ServiceUnavailable;
            }, because: "the node stops being ready without Redis");
            Assert.Equal("Unhealthy", report["status"]!.GetValue<string>());
            Assert.Equal("Unhealthy", report["entries"]!["redis"]!["status"]!.GetValue<string>());
            Assert.Equal("Unhealthy", report["entries"]!["session-store"]!["status"]!.GetValue<string>());
            // Liveness does not depend on Redis: the process is fine, restarting it would not help.
            Assert.Equal("ok", await http.GetStringAsync("/healthz"));
        }
    }

    [Fact]
    public async Task Readyz_checks_PostgreSQL_when_sessions_live_there()
    {
        var database = await _postgres.CreateDatabaseAsync("ready");
        await using var chat = await ChatHost.StartAsync("--session-store", "postgres", "--postgres", _postgres.ConnectionStringFor(database));
        var (http, _) = chat.NewClient();
        using (http)
        {
            var ready = await http.GetAsync("/readyz");
            var report = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Equal(["postgresql", "session-store"], report["entries"]!.AsObject().Select(e => e.Key).Order());
            Assert.Equal("Healthy", report["entries"]!["postgresql"]!["status"]!.GetValue<string>());
        }
    }

    [Fact]
    public void Otlp_and_json_logs_come_from_the_command_line_or_configuration()
    {
        var empty = new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build();
        var cli = ChatSettings.Parse(["--otlp", "http://127.0.0.1:4317", "--json-logs"], empty, out _);
        Assert.Equal("http://127.0.0.1:4317", cli.Otlp);
        Assert.True(cli.JsonLogs);
        var config = new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Parley:Otlp"] = "http://collector:4317",
            ["Parley:JsonLogs"] = "true",
        }).Build();
        var configured = ChatSettings.Parse([], config, out _);
        Assert.Equal("http://collector:4317", configured.Otlp);
        Assert.True(configured.JsonLogs);
        Assert.False(ChatSettings.Parse([], empty, out _).JsonLogs);
    }

    [Fact]
    public async Task Requests_are_not_logged_at_Information_and_json_logs_are_a_flag()
    {
        await using (var chat = await ChatHost.StartAsync())
        {
            var (http, _) = chat.NewClient();
            using (http)
            {
                Assert.Equal("ok", await http.GetStringAsync("/healthz"));
            }
            var options = chat.App.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue;
            Assert.NotEqual(ConsoleFormatterNames.Json, options.FormatterName);
        }
        Assert.DoesNotContain(TestLog.Provider.Entries, e => e.Category.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) && e.Level < LogLevel.Warning);

        await using var json = await ChatHost.StartAsync("--json-logs");
        Assert.Equal(ConsoleFormatterNames.Json, json.App.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName);
    }
}

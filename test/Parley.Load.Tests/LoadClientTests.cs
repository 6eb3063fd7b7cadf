using Parley.Testing;

namespace Parley.Load.Tests;

/// <summary>The load tool's own Socket.IO client and scenarios against a real Parley (small numbers: these are not benchmarks).</summary>
public sealed class LoadClientTests : IAsyncLifetime
{
    private LoadTestServer _server = null!;

    public async Task InitializeAsync() => _server = await LoadTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private LoadTarget Target(bool polling = false, string nsp = "/", bool login = true) =>
        new(_server.Url, "/socket.io/", nsp, polling, login ? _server.LoginUrl : null) { HandshakeTimeout = TestTimeouts.Default };

    private static LoadSettings Settings(string scenario, int connections) => new()
    {
        Scenario = scenario,
        Connections = connections,
        Concurrency = 10,
        Duration = TimeSpan.FromSeconds(1),
        Settle = TimeSpan.FromMilliseconds(200),
        MaxTime = TimeSpan.FromSeconds(60),
        Senders = 2,
        // Generous: on a loaded machine a polling delivery can trail its ack.
        DrainQuiet = TimeSpan.FromSeconds(2),
        Progress = false,
    };

    private static Task<LoadResult> RunAsync(LoadTarget target, LoadSettings settings) =>
        new LoadRunner(target, settings, new ServerProbe(Environment.ProcessId), null).RunAsync(CancellationToken.None).WithTimeout(TimeSpan.FromSeconds(90));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_client_logs_in_connects_emits_with_an_ack_and_receives_the_broadcast(bool polling)
    {
        using var target = Target(polling);
        var cookie = await target.LoginAsync(7, CancellationToken.None).WithTimeout();
        Assert.Equal("user=load7", cookie);
        var client = await SioClient.ConnectAsync(target, 7, cookie, CancellationToken.None).WithTimeout();
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var acked = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.EventReceived = (_, data) => received.TrySetResult(System.Text.Encoding.UTF8.GetString(data));
        client.AckReceived = (_, _, data) => acked.TrySetResult(System.Text.Encoding.UTF8.GetString(data));
        client.Emit("message", """{"text":"hi ~T42~"}""", ack: true);
        Assert.Equal("""["message",{"text":"hi ~T42~"}]""", await received.Task.WithTimeout());
        Assert.Equal("""[{"ok":true}]""", await acked.Task.WithTimeout());
        Assert.Equal(0, client.PendingAcks);
        Assert.True(client.IsOpen);
        client.Close();
    }

    [Fact]
    public async Task A_client_stays_connected_across_heartbeats()
    {
        // Its own server: it pings every second and drops a client that misses a pong for 3 s.
        await using var strict = await LoadTestServer.StartAsync(pingTimeout: TimeSpan.FromSeconds(3));
        using var target = new LoadTarget(strict.Url, "/socket.io/", "/", false, strict.LoginUrl) { HandshakeTimeout = TestTimeouts.Default };
        var client = await SioClient.ConnectAsync(target, 1, await target.LoginAsync(1, CancellationToken.None), CancellationToken.None).WithTimeout();
        string? closedWith = "open";
        client.Closed = (_, reason) => closedWith = reason;
        var server = strict.Web.Services.GetService(typeof(ParleyServer)) as ParleyServer;
        await TestTimeouts.Eventually(() => server!.Engine.ClientsCount == 1);
        await Task.Delay(TimeSpan.FromSeconds(8));
        Assert.Equal("open", closedWith);
        Assert.True(client.IsOpen);
        client.Close();
    }

    [Fact]
    public async Task A_refused_connection_is_a_connect_error()
    {
        using var target = Target(login: false);
        var ex = await Assert.ThrowsAsync<LoadException>(() => SioClient.ConnectAsync(target, 1, null, CancellationToken.None).WithTimeout());
        Assert.Contains("connect_error", ex.Message, StringComparison.Ordinal);
        Assert.Contains("unauthorized", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_holds_every_client_and_reads_the_server_memory()
    {
        using var target = Target();
        var result = await RunAsync(target, Settings("connect", 30));
        Assert.Equal(0, result.ErrorCount);
        Assert.Equal(30, result.Connected);
        Assert.Equal(30, result.Operations);
        Assert.Equal(0, result.Disconnects);
        Assert.NotNull(result.ServerRssAfter);
        Assert.NotNull(result.ServerCpuSeconds);
        Assert.True(result.Timeline.Count >= 1);
    }

    [Fact]
    public async Task Connect_without_the_login_counts_every_refusal()
    {
        using var target = Target(login: false);
        var result = await RunAsync(target, Settings("connect", 5));
        Assert.Equal(0, result.Connected);
        Assert.Equal(5, result.ErrorCount);
        Assert.Contains(result.Errors.Keys, k => k.Contains("unauthorized", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Handshake_makes_every_handshake()
    {
        using var target = Target();
        var result = await RunAsync(target, Settings("handshake", 40));
        Assert.Equal(0, result.ErrorCount);
        Assert.Equal(40, result.Operations);
        Assert.True(result.PerSecond > 0);
        Assert.True(result.P99Ms >= result.P50Ms);
    }

    [Theory]
    [InlineData(false, "/", 0)]
    [InlineData(true, "/", 0)]
    [InlineData(false, "/admin", 20)]
    public async Task Fanout_counts_every_copy_of_every_message(bool polling, string nsp, double rate)
    {
        using var target = Target(polling, nsp);
        var settings = Settings("fanout", 12);
        settings.Rate = rate;
        var result = await RunAsync(target, settings);
        Assert.True(result.ErrorCount == 0, string.Join(", ", result.Errors.Select(e => e.Key + " × " + e.Value)));
        Assert.True(result.Sent > 0);
        Assert.Equal(result.Sent, result.Acked);
        // Every client is in the room, senders included: each message reaches all 12.
        Assert.Equal(result.Sent * 12, result.Operations);
        Assert.True(result.MaxMs >= result.P99Ms);
    }

    [Fact]
    public async Task Echo_times_every_ack()
    {
        using var target = Target();
        var settings = Settings("echo", 4);
        settings.Window = 3;
        var result = await RunAsync(target, settings);
        Assert.Equal(0, result.ErrorCount);
        Assert.True(result.Operations > 0);
        Assert.True(result.Acked >= result.Operations);
    }

    [Fact]
    public async Task Reports_are_written_as_json_and_a_chart()
    {
        using var target = Target();
        var result = await RunAsync(target, Settings("connect", 3));
        var dir = Directory.CreateTempSubdirectory("parley-load-");
        try
        {
            await LoadReport.WriteJsonAsync(Path.Combine(dir.FullName, "r.json"), result);
            await LoadReport.WriteChartAsync(Path.Combine(dir.FullName, "r.html"), result);
            using var json = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(dir.FullName, "r.json")));
            Assert.Equal(3, json.RootElement.GetProperty("connected").GetInt32());
            Assert.Contains("<svg", await File.ReadAllTextAsync(Path.Combine(dir.FullName, "r.html")), StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(true);
        }
    }
}

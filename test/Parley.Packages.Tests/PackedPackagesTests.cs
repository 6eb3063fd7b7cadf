using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Parley.Testing;

namespace Parley.Packages.Tests;

/// <summary>
/// What a team adopting Parley does: packs come from <c>scripts/pack.sh</c> into a local feed, a fresh app outside
/// the repository references them (and nothing of the repository) with the code of docs/getting-started.md, builds,
/// and runs as two processes on one Redis next to an Express app: the official client connects with the Express
/// session's cookie, the name comes from that session, and a broadcast crosses both Parley processes.
/// </summary>
public sealed class PackedPackagesTests : IAsyncLifetime
{
    private const string Secret = "packed secret";
    private static readonly TimeSpan s_build = TimeSpan.FromMinutes(8);

    // A version of its own per run: the NuGet cache never serves an older build of the same version.
    private readonly string _version = "0.9.0-test." + DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    private readonly string _dir = Directory.CreateTempSubdirectory("parley-packages-").FullName;
    private readonly RedisServer _redis = new();

    public Task InitializeAsync() => _redis.InitializeAsync();

    public async Task DisposeAsync()
    {
        await _redis.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
        // The run's packages in the NuGet cache are of no use to anyone after it.
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var id in Directory.Exists(cache) ? Directory.GetDirectories(cache, "parley*") : [])
        {
            var version = Path.Combine(id, _version);
            if (Directory.Exists(version))
            {
                Directory.Delete(version, recursive: true);
            }
        }
    }

    private static async Task<string> RunAsync(string workingDirectory, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + file);
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(s_build);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} took over {s_build}");
        }
        output.Append(await stdout).Append(await stderr);
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} exited {process.ExitCode}:\n{output}");
        return output.ToString();
    }

    [Fact]
    public async Task A_fresh_app_on_the_packed_packages_shares_an_Express_session_and_scales_out_over_Redis()
    {
        var feed = Path.Combine(_dir, "feed");
        await RunAsync(RepoPaths.Root, "bash", "scripts/pack.sh", feed, "--no-build", "-p:Version=" + _version);
        foreach (var id in new[] { "Parley", "Parley.Protocol", "Parley.Redis", "Parley.Sessions", "Parley.Sessions.Redis", "Parley.Sessions.PostgreSql", "Parley.AdminUI", "parley-load" })
        {
            Assert.True(File.Exists(Path.Combine(feed, $"{id}.{_version}.nupkg")), $"{id} was not packed");
        }

        var app = Path.Combine(_dir, "app");
        Directory.CreateDirectory(app);
        await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        await File.WriteAllTextAsync(Path.Combine(app, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Parley" Version="{_version}" />
                <PackageReference Include="Parley.Redis" Version="{_version}" />
                <PackageReference Include="Parley.Sessions" Version="{_version}" />
                <PackageReference Include="Parley.Sessions.Redis" Version="{_version}" />
              </ItemGroup>
            </Project>
            """);
        // docs/getting-started.md, sections 1 to 3: an endpoint, the session's user, Redis for both.
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), """
            using Parley;
            using Parley.Sessions;

            var builder = WebApplication.CreateBuilder(args);
            var redis = builder.Configuration["Redis"]!;
            builder.Services.AddParley().AddRedis(redis);
            builder.Services.AddParleySessions(o => o.Secrets.Add(builder.Configuration["SessionSecret"]!)).AddRedisStore(redis);
            var app = builder.Build();
            app.UseParleySessions();

            app.MapParley("/socket.io", io =>
            {
                io.UseSessions();
                io.OnConnection(socket =>
                {
                    var name = socket.GetSession()!.Get<string>("name");
                    socket.Join("lobby");
                    socket.On<string>("hello", async (text, ack) =>
                    {
                        await socket.To("lobby").EmitAsync("hello", name, text);
                        await ack(new { ok = true, name });
                    });
                });
            });
            app.Run();
            """);
        await RunAsync(app, "dotnet", "build", "-c", "Release", "-o", Path.Combine(app, "out"));
        var dll = Path.Combine(app, "out", "App.dll");

        await using var express = await ExpressApp.StartRedisAsync(_redis.Url, [Secret]);
        await using var one = await AppProcess.StartAsync(dll, "/socket.io/socket.io.js", "--Redis", _redis.Url, "--SessionSecret", Secret);
        await using var two = await AppProcess.StartAsync(dll, "/socket.io/socket.io.js", "--Redis", _redis.Url, "--SessionSecret", Secret);
        await using var driver = NodeDriver.Start();

        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { Timeout = TestTimeouts.Default };
        using var login = await http.PostAsJsonAsync(express.Url + "/login", new { name = "ada" }).WithTimeout();
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var setCookie = Assert.Single(login.Headers.GetValues("Set-Cookie"));
        var cookie = setCookie[..setCookie.IndexOf(';', StringComparison.Ordinal)];

        // Without the session: refused, as io.UseSessions() promises.
        var anonymous = await driver.CallForHandleAsync("sio.connect", new { url = one.Url, opts = new { transports = new[] { "websocket" } } });
        Assert.Equal("unauthorized", (await driver.NextEventAsync(anonymous, "connect_error"))!["message"]!.GetValue<string>());

        var onOne = await ConnectAsync(driver, one.Url, cookie);
        var onTwo = await ConnectAsync(driver, two.Url, cookie);
        // The first broadcast can precede the other process's subscription: send until one crosses.
        await TestTimeouts.Eventually(async () =>
        {
            var ack = await driver.CallAsync("sio.emit", new { h = onOne, @event = "hello", args = new object[] { "ping" }, ack = true, timeout = 5000 });
            Assert.Equal("ada", ack!["name"]!.GetValue<string>());
            return !await driver.ReceivesNoneAsync(onTwo, "event", TimeSpan.FromMilliseconds(500), e => e?["name"]?.GetValue<string>() == "hello");
        }, because: "a broadcast from one process reaches a client of the other");
        await driver.CallAsync("sio.emit", new { h = onTwo, @event = "hello", args = new object[] { "from two" } });
        var received = await driver.NextEventAsync(onOne, "event", where: e => e?["args"]?[1]?.GetValue<string>() == "from two");
        Assert.Equal("ada", received!["args"]![0]!.GetValue<string>());
    }

    private static async Task<string> ConnectAsync(NodeDriver driver, string url, string cookie)
    {
        var opts = new JsonObject { ["transports"] = new JsonArray("websocket"), ["extraHeaders"] = new JsonObject { ["cookie"] = cookie } };
        var h = await driver.CallForHandleAsync("sio.connect", new { url, opts });
        await driver.NextEventAsync(h, "connect");
        return h;
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit;

namespace Parley.Testing;

/// <summary>
/// A throwaway PostgreSQL cluster on a free loopback port: <c>initdb</c> into a temporary folder, then
/// <c>postgres</c> with trust authentication and <c>fsync=off</c>. initdb and postgres refuse to run as root, so
/// as root they run as the <c>postgres</c> user (the folder is given to it). <see cref="StopAsync"/> and
/// <see cref="StartAsync"/> stop and restart the same cluster on the same port ("database down" tests).
/// Use as an xunit class or collection fixture.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private readonly string _dir;
    private readonly string _binDir;
    private readonly bool _asPostgresUser;
    private readonly StringBuilder _output = new();
    private Process? _process;
    private int _databases;

    /// <summary>Prepares a cluster folder; <see cref="InitializeAsync"/> creates and starts it.</summary>
    public PostgresServer()
    {
        _binDir = FindBinDir();
        _dir = Path.Combine(Path.GetTempPath(), "parley-pg-" + Guid.NewGuid().ToString("N")[..12]);
        _asPostgresUser = Environment.UserName == "root";
        Port = LoopbackPort.Free();
    }

    /// <summary>The TCP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>A connection string to the <c>postgres</c> database as the <c>postgres</c> superuser.</summary>
    public string ConnectionString => ConnectionStringFor("postgres");

    /// <summary>A <c>postgres://</c> URL for node-postgres.</summary>
    public string UrlFor(string database) => $"postgres://postgres@127.0.0.1:{Port}/{database}";

    /// <summary>A connection string to <paramref name="database"/>.</summary>
    public string ConnectionStringFor(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Timeout=5;Command Timeout=10";

    /// <summary>True while the server process runs.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>What initdb and postgres wrote so far (for failure messages).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        if (_asPostgresUser)
        {
            await RunAsync("chown", ["-R", "postgres:postgres", _dir]);
        }
        // C collation and UTF-8: independent of the machine's locales.
        await RunAsync(Tool("initdb"), ["-D", DataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]);
        await StartAsync();
    }

    /// <summary>Starts (or restarts) the server and waits until it accepts connections.</summary>
    public async Task StartAsync()
    {
        if (IsRunning)
        {
            return;
        }
        string[] args =
        [
            "-D", DataDir, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-c", "listen_addresses=127.0.0.1", "-k", _dir,
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=200",
            // Every statement is logged to Output, so that tests can check the exact queries a store sends.
            "-c", "log_statement=all",
        ];
        _process = Start(Tool("postgres"), args);
        // postgres logs to stderr; drain it so that a full pipe never blocks the server.
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException("postgres exited at start-up: " + Output);
            }
            using var ready = Start(Tool("pg_isready"), ["-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres", "-d", "postgres"]);
            await ready.WaitForExitAsync().WithTimeout();
            if (ready.ExitCode == 0)
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("postgres did not accept connections in time: " + Output);
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Stops the server (fast shutdown: open connections are cut) and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        if (_process is null)
        {
            return;
        }
        if (!_process.HasExited)
        {
            var stop = Start(Tool("pg_ctl"), ["stop", "-D", DataDir, "-m", "fast", "-w"]);
            await stop.WaitForExitAsync().WithTimeout();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        _process.Dispose();
        _process = null;
    }

    /// <summary>Creates an empty database and returns its name.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "db")
    {
        var name = prefix + Interlocked.Increment(ref _databases);
        await RunAsync(Tool("createdb"), ["-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres", name]);
        return name;
    }

    /// <summary>Runs SQL through psql and returns its unaligned, tuples-only output.</summary>
    public async Task<string> PsqlAsync(string database, string sql) =>
        await RunAsync(Tool("psql"), ["-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres", "-d", database, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql]);

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (Exception) when (_process is not null)
        {
            _process.Kill(entireProcessTree: true);
        }
        finally
        {
            try
            {
                Directory.Delete(_dir, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            if (_output.Length < 20_000_000)
            {
                _output.AppendLine(line);
            }
        }
    }

    private string DataDir => Path.Combine(_dir, "data");

    private string Tool(string name) => Path.Combine(_binDir, name);

    private static string FindBinDir()
    {
        var root = "/usr/lib/postgresql";
        var dir = Directory.Exists(root)
            ? Directory.GetDirectories(root)
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "postgres")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;
        return dir ?? throw new InvalidOperationException("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres); run scripts/install-deps.sh.");
    }

    private Process Start(string file, IReadOnlyList<string> args)
    {
        var psi = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (_asPostgresUser && file != "chown")
        {
            psi.FileName = "runuser";
            psi.ArgumentList.Add("-u");
            psi.ArgumentList.Add("postgres");
            psi.ArgumentList.Add("--");
            psi.ArgumentList.Add(file);
        }
        else
        {
            psi.FileName = file;
        }
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + file);
        return p;
    }

    private async Task<string> RunAsync(string file, IReadOnlyList<string> args)
    {
        using var p = Start(file, args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WithTimeout(TimeSpan.FromSeconds(60));
        var output = await stdout.WithTimeout();
        var errors = await stderr.WithTimeout();
        lock (_output)
        {
            _output.Append(errors);
        }
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} failed ({p.ExitCode}): {errors}{output}");
        }
        return output.TrimEnd('\n');
    }
}

using System.Diagnostics;
using System.Text;

namespace Parley.Testing;

/// <summary>
/// A script of test/js run by Node (or of test/python run by Python): its standard input and output are the caller's (the scripts speak JSON lines),
/// its stderr is collected for failure messages. The scripts exit when their input ends, so stopping closes it, and
/// kills the process only when it does not exit in time.
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    private NodeProcess(Process process)
    {
        _process = process;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                AppendStderr(e.Data);
            }
        };
        _process.BeginErrorReadLine();
    }

    /// <summary>Starts <c>node test/js/<paramref name="script"/></c> in test/js with extra environment variables.</summary>
    public static NodeProcess Start(string script, IEnumerable<KeyValuePair<string, string>>? environment = null) =>
        Start("node", RepoPaths.JsDir, script, environment);

    /// <summary>Starts <c>node <paramref name="script"/></c> in <paramref name="directory"/> (a sample's own npm project, say).</summary>
    public static NodeProcess StartIn(string directory, string script, IEnumerable<KeyValuePair<string, string>>? environment = null) =>
        Start("node", directory, script, environment);

    /// <summary>
    /// Starts <c>/usr/bin/python3 test/python/<paramref name="script"/></c>: a script with the same stdio contract,
    /// run by Debian's interpreter because that is where Debian's python3-socketio is installed (a python3 earlier on
    /// PATH, such as pyenv's, would not see it).
    /// </summary>
    public static NodeProcess StartPython(string script, IEnumerable<KeyValuePair<string, string>>? environment = null) =>
        Start("/usr/bin/python3", RepoPaths.PythonDir, script, environment);

    private static NodeProcess Start(string interpreter, string dir, string script, IEnumerable<KeyValuePair<string, string>>? environment)
    {
        var psi = new ProcessStartInfo(interpreter, Path.Combine(dir, script))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = dir,
            UseShellExecute = false,
        };
        foreach (var (k, v) in environment ?? [])
        {
            psi.Environment[k] = v;
        }
        return new NodeProcess(Process.Start(psi) ?? throw new InvalidOperationException("could not start " + interpreter));
    }

    /// <summary>The script's standard input.</summary>
    public StreamWriter Input => _process.StandardInput;

    /// <summary>The script's standard output.</summary>
    public StreamReader Output => _process.StandardOutput;

    /// <summary>What the script wrote to stderr so far (and what its owner added with <see cref="AppendStderr"/>).</summary>
    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Adds a line to <see cref="Stderr"/>: an error the script reported on its output.</summary>
    public void AppendStderr(string line)
    {
        lock (_stderr)
        {
            _stderr.AppendLine(line);
        }
    }

    /// <summary>
    /// Closes the script's input and waits up to <paramref name="grace"/> for it to exit (its stderr is then complete),
    /// or kills it.
    /// </summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            // Exited on its own: wait (boundedly) for the last of its stderr.
            await _process.WaitForExitAsync().WaitAsync(grace).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return;
        }
        _process.StandardInput.Close();
        using var cts = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync(TimeSpan.FromSeconds(5));
        }
        finally
        {
            _process.Dispose();
        }
    }
}

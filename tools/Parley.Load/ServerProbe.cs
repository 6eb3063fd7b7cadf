using System.Globalization;

namespace Parley.Load;

/// <summary>
/// Reads a server process's resident memory and CPU time from /proc (same machine, Linux), so that a run reports
/// cost per connection and work per server-CPU-second. Without a pid every reading is null.
/// </summary>
internal sealed class ServerProbe
{
    /// <summary>USER_HZ: /proc/[pid]/stat counts CPU time in these ticks; 100 on every Linux the tool targets.</summary>
    private const double TicksPerSecond = 100;

    private readonly int? _pid;

    public ServerProbe(int? pid)
    {
        _pid = pid;
    }

    public bool Enabled => _pid is not null;

    /// <summary>Resident set size in bytes (VmRSS).</summary>
    public long? RssBytes()
    {
        if (_pid is null)
        {
            return null;
        }
        try
        {
            foreach (var line in File.ReadLines($"/proc/{_pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        return null;
    }

    /// <summary>User + system CPU time in seconds.</summary>
    public double? CpuSeconds()
    {
        if (_pid is null)
        {
            return null;
        }
        try
        {
            var stat = File.ReadAllText($"/proc/{_pid}/stat");
            // Fields after the command name (which may hold spaces), from field 3: utime is 14th, stime 15th.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return ticks / TicksPerSecond;
        }
        catch (IOException)
        {
            return null;
        }
    }
}

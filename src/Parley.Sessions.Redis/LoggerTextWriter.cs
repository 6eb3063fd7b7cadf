using System.Text;
using Microsoft.Extensions.Logging;

namespace Parley.Sessions.Redis;

/// <summary>
/// StackExchange.Redis reports why a connection attempt failed only to a TextWriter; this turns its lines into
/// debug log entries (event 4101), so "why can't the store reach Redis" is answerable from the logs.
/// </summary>
internal sealed partial class LoggerTextWriter(ILogger logger) : TextWriter
{
    private readonly StringBuilder _line = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_line)
        {
            if (value == '\n')
            {
                Log(logger, _line.ToString().TrimEnd('\r'));
                _line.Clear();
            }
            else
            {
                _line.Append(value);
            }
        }
    }

    [LoggerMessage(4101, LogLevel.Debug, "Redis session store connection: {Line}")]
    private static partial void Log(ILogger logger, string line);
}

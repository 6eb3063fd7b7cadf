using Microsoft.Extensions.Logging;

namespace Parley.Resp;

/// <summary>
/// One multiplexed, pipelined Redis connection for commands: any number of concurrent callers, commands written
/// in call order and batched into one flush, replies matched first-in first-out. Typed helpers for the commands
/// Parley uses are in <c>RespConnection.Commands.cs</c>; anything else goes through <c>ExecuteAsync</c>.
/// </summary>
internal sealed partial class RespConnection : RespClientBase
{
    public RespConnection(RespConnectionOptions options, ILogger<RespConnection>? logger = null, TimeProvider? timeProvider = null)
        : base(options, logger, timeProvider, "command")
    {
    }

    /// <summary>
    /// Sends <c>command args...</c> and returns the reply. Fails with <see cref="RespServerException"/> on an error
    /// reply, <see cref="RespTimeoutException"/> after <see cref="RespConnectionOptions.CommandTimeout"/>, and
    /// <see cref="RespConnectionException"/> when disconnected or when the connection drops before the reply.
    /// </summary>
    public Task<RespValue> ExecuteAsync(string command, params ReadOnlySpan<RespArg> args)
    {
        var session = Session;
        if (session is null)
        {
            return Task.FromException<RespValue>(NotConnected());
        }
        var request = NewRequest(command);
        RespWriter.WriteCommand(request, command, args);
        return Send(session, request);
    }

    /// <summary>As <c>ExecuteAsync</c> with the arguments in a list.</summary>
    public Task<RespValue> ExecuteAsync(string command, IReadOnlyList<RespArg> args)
    {
        var array = new RespArg[args.Count];
        for (var i = 0; i < array.Length; i++)
        {
            array[i] = args[i];
        }
        return ExecuteAsync(command, array.AsSpan());
    }
}

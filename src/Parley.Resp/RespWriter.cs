using System.Buffers;
using System.Buffers.Text;

namespace Parley.Resp;

/// <summary>
/// Writes commands the way every Redis client sends them: an array of bulk strings,
/// <c>*&lt;n&gt;\r\n</c> then <c>$&lt;len&gt;\r\n&lt;bytes&gt;\r\n</c> per part
/// (https://redis.io/docs/latest/develop/reference/protocol-spec/#sending-commands-to-a-redis-server).
/// </summary>
internal static class RespWriter
{
    public static void WriteCommand(IBufferWriter<byte> output, string command, ReadOnlySpan<RespArg> args)
    {
        WriteHeader(output, (byte)'*', args.Length + 1);
        WriteBulk(output, command);
        foreach (var arg in args)
        {
            WriteBulk(output, arg);
        }
    }

    private static void WriteBulk(IBufferWriter<byte> output, RespArg arg)
    {
        var length = arg.ByteCount;
        WriteHeader(output, (byte)'$', length);
        var span = output.GetSpan(length + 2);
        var written = arg.WriteTo(span);
        span[written] = (byte)'\r';
        span[written + 1] = (byte)'\n';
        output.Advance(written + 2);
    }

    private static void WriteHeader(IBufferWriter<byte> output, byte prefix, long value)
    {
        var span = output.GetSpan(24);
        span[0] = prefix;
        Utf8Formatter.TryFormat(value, span[1..], out var n);
        span[n + 1] = (byte)'\r';
        span[n + 2] = (byte)'\n';
        output.Advance(n + 3);
    }
}

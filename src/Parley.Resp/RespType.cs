namespace Parley.Resp;

/// <summary>The RESP2 types, plus the RESP3 ones the reader accepts leniently.</summary>
internal enum RespType : byte
{
    /// <summary>RESP2 <c>$-1</c> / <c>*-1</c>, RESP3 <c>_</c>.</summary>
    Null,
    SimpleString,
    Error,
    Integer,
    BulkString,
    Array,

    // RESP3 (https://github.com/redis/redis-specifications/blob/master/protocol/RESP3.md)
    Double,
    Boolean,
    BigNumber,
    VerbatimString,
    Map,
    Set,
    Push,
}

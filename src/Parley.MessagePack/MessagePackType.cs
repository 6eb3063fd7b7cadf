namespace Parley.MessagePack;

/// <summary>The kind of the next msgpack value, as seen from its first byte.</summary>
internal enum MessagePackType
{
    Nil,
    Boolean,
    Integer,
    Float,
    String,
    Binary,
    Array,
    Map,
    Extension,

    /// <summary>notepack's legacy <c>d4 00 00</c>, decoded as JS <c>undefined</c>.</summary>
    Undefined,

    /// <summary>Ext −1 (timestamp 32/64/96) or notepack's legacy <c>d7 00</c> date.</summary>
    Timestamp,
}

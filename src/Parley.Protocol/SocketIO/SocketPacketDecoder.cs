using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Parley.Protocol.SocketIO;

/// <summary>
/// Decodes inbound Socket.IO v5 packets exactly as socket.io-parser 4.2 <c>Decoder</c> does
/// (lib/index.ts <c>add</c>, <c>decodeString</c>, <c>isPayloadValid</c>; lib/binary.ts <c>reconstructPacket</c>),
/// without exceptions. One instance per connection: a binary packet is a text header followed by its
/// attachments as separate binary Engine.IO messages, so the decoder keeps state between calls. Not thread-safe.
/// </summary>
/// <remarks>
/// Wire format (socket.io-protocol Readme "Packet encoding"):
/// <code>&lt;type&gt;[&lt;attachments&gt;-][&lt;namespace&gt;,][&lt;ack id&gt;][&lt;JSON payload&gt;]</code>
/// Read leniently where upstream is lenient (see the header comments below), write exactly
/// (<see cref="SocketPacketWriter"/>).
/// </remarks>
public sealed partial class SocketPacketDecoder
{
    private readonly int _maxAttachments;
    private readonly JsonReaderOptions _readerOptions;

    // Reconstruction state of a binary packet whose attachments are still arriving.
    private SocketPacketType _pendingType;
    private string _pendingNamespace = "/";
    private long? _pendingAckId;
    private JsonElement? _pendingData;
    private ReadOnlyMemory<byte>[]? _pendingAttachments;
    private int _receivedAttachments;

    // Most connections use one or two namespaces: reuse the last string instead of allocating per packet.
    private byte[] _lastNamespaceUtf8 = [];
    private string _lastNamespace = "/";

    /// <summary>Creates a decoder with default limits.</summary>
    public SocketPacketDecoder()
        : this(null)
    {
    }

    /// <summary>Creates a decoder.</summary>
    /// <param name="options">Limits; null for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">A limit is out of range.</exception>
    public SocketPacketDecoder(SocketPacketDecoderOptions? options)
    {
        options ??= new SocketPacketDecoderOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxAttachments, nameof(options.MaxAttachments));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxJsonDepth, 1, nameof(options.MaxJsonDepth));
        _maxAttachments = options.MaxAttachments;
        _readerOptions = new JsonReaderOptions
        {
            MaxDepth = options.MaxJsonDepth,
            CommentHandling = JsonCommentHandling.Disallow,
            AllowTrailingCommas = false,
        };
    }

    /// <summary>True while a binary packet header has been accepted and its attachments are still expected.</summary>
    public bool IsReconstructing => _pendingAttachments is not null;

    /// <summary>Why the last call returned <see cref="SocketDecodeResult.Invalid"/>; None after a success.</summary>
    public SocketDecodeError LastErrorCode { get; private set; }

    /// <summary>
    /// The upstream error message of the last <see cref="SocketDecodeResult.Invalid"/> result (e.g.
    /// <c>invalid payload</c>, <c>Illegal attachments</c>); null after a success.
    /// </summary>
    public string? LastError { get; private set; }

    /// <summary>
    /// Decodes a text Engine.IO message (its payload after the Engine.IO <c>4</c>). Never throws. Invalid UTF-8
    /// is decoded leniently (replaced by U+FFFD, as Node's Buffer.toString would). The input is not retained:
    /// the packet owns a copy of everything it needs.
    /// </summary>
    /// <param name="utf8Text">The packet text as UTF-8.</param>
    /// <param name="packet">The packet when the result is <see cref="SocketDecodeResult.Complete"/>; else null.</param>
    /// <returns>Complete, AwaitingAttachments (a binary header), or Invalid.</returns>
    public SocketDecodeResult Decode(ReadOnlySpan<byte> utf8Text, out SocketPacket? packet)
    {
        packet = null;
        if (IsReconstructing)
        {
            // lib/index.ts add(): a string while reconstructing is an error.
            return Fail(SocketDecodeError.PlaintextWhileReconstructing, "got plaintext data when reconstructing a packet");
        }

        if (!Utf8.IsValid(utf8Text))
        {
            // Rare: repair once so that every later step (JSON, namespace strings, re-encoding) sees valid UTF-8.
            utf8Text = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(utf8Text));
        }

        return DecodeString(utf8Text, out packet);
    }

    /// <summary>
    /// Adds a binary Engine.IO message as the next attachment of the packet being reconstructed. Never throws.
    /// The bytes are copied, so the caller may reuse or return a pooled buffer as soon as this returns.
    /// </summary>
    /// <param name="binary">The attachment bytes.</param>
    /// <param name="packet">The packet when this was its last attachment; else null.</param>
    /// <returns>Complete (last attachment), AwaitingAttachments (more to come), or Invalid.</returns>
    public SocketDecodeResult AddAttachment(ReadOnlyMemory<byte> binary, out SocketPacket? packet)
    {
        packet = null;
        if (_pendingAttachments is null)
        {
            return Fail(SocketDecodeError.BinaryWhenNotReconstructing, "got binary data when not reconstructing a packet");
        }

        _pendingAttachments[_receivedAttachments++] = binary.ToArray();
        if (_receivedAttachments < _pendingAttachments.Length)
        {
            return SocketDecodeResult.AwaitingAttachments;
        }

        packet = new SocketPacket(_pendingType, _pendingNamespace, _pendingAckId, _pendingData, _pendingAttachments);
        Reset();
        return Succeed();
    }

    /// <summary>
    /// Drops a packet under reconstruction, if any (socket.io-parser <c>destroy()</c>); the decoder can then
    /// decode again. Call when the connection closes to release attachment buffers early.
    /// </summary>
    public void Reset()
    {
        _pendingAttachments = null;
        _receivedAttachments = 0;
        _pendingData = null;
        _pendingNamespace = "/";
        _pendingAckId = null;
    }

    private SocketDecodeResult Succeed()
    {
        LastErrorCode = SocketDecodeError.None;
        LastError = null;
        return SocketDecodeResult.Complete;
    }

    private SocketDecodeResult Fail(SocketDecodeError code, string message)
    {
        // Upstream leaves a half-built reconstructor behind after some errors; the server closes the connection
        // anyway, so we reset to keep the decoder reusable and free the buffers.
        Reset();
        LastErrorCode = code;
        LastError = message;
        return SocketDecodeResult.Invalid;
    }

    private string GetNamespace(ReadOnlySpan<byte> utf8)
    {
        if (!utf8.SequenceEqual(_lastNamespaceUtf8))
        {
            _lastNamespaceUtf8 = utf8.ToArray();
            _lastNamespace = Encoding.UTF8.GetString(utf8);
        }

        return _lastNamespace;
    }

    private static bool TryParseLong(ReadOnlySpan<byte> digits, out long value) =>
        Utf8Parser.TryParse(digits, out value, out var consumed) && consumed == digits.Length && value >= 0;

    private static bool IsBinaryType(SocketPacketType type) =>
        type is SocketPacketType.BinaryEvent or SocketPacketType.BinaryAck;

}

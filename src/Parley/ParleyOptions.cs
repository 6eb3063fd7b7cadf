using System.Text.Json;
using Parley.EngineIO;
using Parley.Serialization;

namespace Parley;

/// <summary>
/// Options of the Socket.IO server, with socket.io 4.x's names and defaults
/// (https://socket.io/docs/v4/server-options/). Engine.IO options are under <see cref="Engine"/>.
/// </summary>
public sealed class ParleyOptions
{
    /// <summary>Engine.IO (transport) options: heartbeat, limits, CORS, cookie, compression.</summary>
    public EngineOptions Engine { get; set; } = new();

    /// <summary>How long a client has to join a namespace after connecting before it is closed (<c>connectTimeout</c>, 45 s).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>Serve the official browser client at <c>{path}/socket.io.js</c> (<c>serveClient</c>, true).</summary>
    public bool ServeClient { get; set; } = true;

    /// <summary>The most binary attachments one packet may announce (socket.io-parser <c>maxAttachments</c>, 10).</summary>
    public int MaxAttachments { get; set; } = 10;

    /// <summary>The deepest JSON nesting accepted in a packet (32); deeper input closes the client.</summary>
    public int MaxJsonDepth { get; set; } = 32;

    /// <summary>
    /// Faulty packets (arguments a handler cannot read as the type it asked for) after which a connection is
    /// closed. The first is logged; the others are only counted. Default 20.
    /// </summary>
    public int MaxClientFaults { get; set; } = 20;

    /// <summary>
    /// The Socket.IO parsers clients may use (socket.io's <c>parser</c> option, which takes one): the default parser
    /// alone by default. With several, each connection's parser is told from its first packet: a msgpack packet is a
    /// binary message holding a map, a default one is text. Broadcasts are encoded once per parser in use.
    /// </summary>
    public IList<SocketParser> Parsers { get; set; } = [SocketParser.Default];

    /// <summary>Remove a dynamic namespace's child once its last socket leaves (<c>cleanupEmptyChildNamespaces</c>, false).</summary>
    public bool CleanupEmptyChildNamespaces { get; set; }

    /// <summary>
    /// Connection state recovery (<c>connectionStateRecovery</c>); null (the default, as in socket.io) turns it off.
    /// </summary>
    public ConnectionStateRecoveryOptions? ConnectionStateRecovery { get; set; }

    /// <summary>
    /// How event arguments are (de)serialized: web defaults (camelCase). Add a source-generated context through
    /// <see cref="JsonSerializerOptions.TypeInfoResolverChain"/> for trimming or speed. Byte arrays travel as binary
    /// attachments, never as base64.
    /// </summary>
    public JsonSerializerOptions SerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);

    internal JsonSerializerOptions CreateWireSerializerOptions()
    {
        var options = new JsonSerializerOptions(SerializerOptions)
        {
            Encoder = SocketJsonEncoder.Instance,
            WriteIndented = false,
            MaxDepth = Math.Max(MaxJsonDepth, 64),
        };
        options.Converters.Insert(0, new BinaryPlaceholderConverter());
        options.Converters.Insert(1, new ReadOnlyMemoryPlaceholderConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}

using System.Buffers;
using System.Collections.Immutable;
using System.Text.Json;
using Parley.Diagnostics;
using Parley.EngineIO;
using Parley.Protocol.EngineIO;
using Parley.Protocol.SocketIO;
using Parley.Serialization;

namespace Parley;

/// <summary>
/// One Engine.IO connection seen by Socket.IO (socket.io lib/client.ts): decodes packets, routes them to the
/// sockets of each namespace, joins namespaces, and closes the connection on invalid input.
/// </summary>
internal sealed class SocketClient
{
    private readonly ParleyServer _server;
    private readonly SocketPacketDecoder _decoder;
    // The sockets by namespace and the namespaces being joined: copy-on-write arrays (lock-free reads, compare-and-
    // swap writes) for the one or two namespaces a client joins, instead of two ConcurrentDictionaries (about
    // 0.5 KB each with their buckets and lock objects, for every connection).
    private KeyValuePair<string, ParleySocket>[] _sockets = [];
    private string[] _connecting = [];
    // Dropped once a namespace is joined: a disposed timer still holds its queue entry object.
    private ITimer? _connectTimer;
    // Held while a message is handled and while a namespace connection registers its socket and runs its handlers,
    // so that the client's next packets cannot overtake them (see Connect). The engine delivers one message at a
    // time already; this lock is for the connections that finish on another thread.
    private readonly Lock _receiveLock = new();

    public SocketClient(ParleyServer server, EngineConnection connection)
    {
        _server = server;
        Connection = connection;
        _decoder = new SocketPacketDecoder(new SocketPacketDecoderOptions
        {
            MaxAttachments = server.Options.MaxAttachments,
            MaxJsonDepth = server.Options.MaxJsonDepth,
        });
        connection.Owner = this;
        connection.MessageReceived = static (c, message) => ((SocketClient)c.Owner!).OnMessage(message);
        connection.Closed = static (c, reason) => ((SocketClient)c.Owner!).OnClose(reason);
        // client.ts constructor: close the connection if no namespace is joined in time.
        _connectTimer = server.Time.CreateTimer(static s => ((SocketClient)s!).OnConnectTimeout(), this, server.Options.ConnectTimeout, Timeout.InfiniteTimeSpan);
        if (connection.Protocol == 3 && TryAddConnecting("/"))
        {
            // socket.io-client 2.x never sends a CONNECT for the main namespace: it is joined at once (index.ts onconnection).
            _ = ConnectAsync("/", null);
        }
    }

    /// <summary>A new socket's id: random, or for a v2 client the one it computes itself from the Engine.IO id (socket.ts constructor).</summary>
    public string NewSocketId(string nsp) =>
        Connection.Protocol == 3 ? LegacySocketProtocol.SocketId(nsp, Connection.Id) : EngineServer.GenerateId();

    public EngineConnection Connection { get; }

    // The parser of this connection, told from its first message (ParleyOptions.Parsers); until then, and for v3
    // clients, the default one.
    private volatile SocketParserState _parser;

    /// <summary>
    /// Writes a packet the default parser encoded (a text frame and its attachments); a msgpack client gets its
    /// msgpack form instead, made once per packet (<see cref="MessagePackPackets.Encode"/>).
    /// </summary>
    public void Send(EnginePacket[] frames)
    {
        if (_parser == SocketParserState.MessagePack)
        {
            Connection.Send(MessagePackPackets.Encode(frames));
            return;
        }
        Connection.Send(frames);
    }

    public void Send(EnginePacket frame)
    {
        if (_parser == SocketParserState.MessagePack)
        {
            Connection.Send(MessagePackPackets.Encode([frame]));
            return;
        }
        Connection.Send(frame);
    }

    public void Remove(ParleySocket socket) =>
        ImmutableInterlocked.Update(ref _sockets, static (current, socket) =>
        {
            var i = Array.FindIndex(current, e => ReferenceEquals(e.Value, socket));
            return i < 0 ? current : [.. current.AsSpan(0, i), .. current.AsSpan(i + 1)];
        }, socket);

    private ParleySocket? GetSocket(string nsp)
    {
        foreach (var (name, socket) in Volatile.Read(ref _sockets))
        {
            if (name == nsp)
            {
                return socket;
            }
        }
        return null;
    }

    private void SetSocket(string nsp, ParleySocket socket) =>
        ImmutableInterlocked.Update(ref _sockets, static (current, entry) =>
        {
            var i = Array.FindIndex(current, e => e.Key == entry.Key);
            if (i < 0)
            {
                return [.. current, entry];
            }
            var next = current.ToArray();
            next[i] = entry;
            return next;
        }, new KeyValuePair<string, ParleySocket>(nsp, socket));

    /// <summary>Marks <paramref name="nsp"/> as being joined; false when it already is.</summary>
    private bool TryAddConnecting(string nsp) =>
        ImmutableInterlocked.Update(ref _connecting, static (current, nsp) => Array.IndexOf(current, nsp) >= 0 ? current : [.. current, nsp], nsp);

    private void RemoveConnecting(string nsp) =>
        ImmutableInterlocked.Update(ref _connecting, static (current, nsp) =>
        {
            var i = Array.IndexOf(current, nsp);
            return i < 0 ? current : [.. current.AsSpan(0, i), .. current.AsSpan(i + 1)];
        }, nsp);

    private void OnConnectTimeout()
    {
        // client.ts: closes when no namespace is joined yet, even while a middleware is still deciding (a
        // middleware that never calls next must not keep the connection open for ever).
        if (Volatile.Read(ref _sockets).Length == 0)
        {
            SocketLog.ConnectTimeout(_server.Logger, Connection.Id);
            _server.Metrics.ConnectRefused("timeout");
            Connection.Close();
        }
    }

    private void OnMessage(EngineMessage message)
    {
        lock (_receiveLock)
        {
            OnMessageLocked(message);
        }
    }

    private void OnMessageLocked(EngineMessage message)
    {
        if (_parser == SocketParserState.Undecided)
        {
            _parser = ChooseParser(message);
        }
        if (_parser == SocketParserState.MessagePack)
        {
            OnMessagePackMessage(message);
            return;
        }
        SocketPacket? packet;
        var result = message.IsBinary
            ? _decoder.AddAttachment(message.Data.ToArray(), out packet)
            : _decoder.Decode(message.Data, out packet);
        switch (result)
        {
            case SocketDecodeResult.Complete:
                OnPacket(packet!);
                break;
            case SocketDecodeResult.AwaitingAttachments:
                break;
            default:
                ClientFaultMetrics.Add("invalid_packet");
                SocketLog.InvalidPacket(_server.Logger, Connection.Id, _decoder.LastError ?? "invalid packet");
                Close(DisconnectReasons.ForcedServerClose);
                break;
        }
    }

    /// <summary>
    /// A msgpack client's first packet (its CONNECT) is a binary message holding a map; a default-parser client's is
    /// text. A v3 client speaks the default parser only.
    /// </summary>
    private SocketParserState ChooseParser(EngineMessage message)
    {
        var parsers = _server.Options.Parsers;
        if (parsers.Contains(SocketParser.MessagePack) && Connection.Protocol == 4 && message.IsBinary && MessagePackPackets.StartsWithMap(message.Data))
        {
            return SocketParserState.MessagePack;
        }
        return parsers.Contains(SocketParser.Default) ? SocketParserState.Default : SocketParserState.MessagePack;
    }

    private void OnMessagePackMessage(EngineMessage message)
    {
        string? error = "text message from a msgpack client";
        var packet = message.IsBinary
            ? MessagePackPackets.Decode(message.Data, _server.Options.MaxAttachments, _server.Options.MaxJsonDepth, out error)
            : null;
        if (packet is null)
        {
            ClientFaultMetrics.Add("invalid_packet");
            SocketLog.InvalidPacket(_server.Logger, Connection.Id, error ?? "invalid packet");
            Close(DisconnectReasons.ForcedServerClose);
            return;
        }
        OnPacket(packet);
    }

    private void OnPacket(SocketPacket packet)
    {
        var nsp = packet.Namespace;
        var auth = packet.Data;
        if (Connection.Protocol == 3)
        {
            nsp = LegacySocketProtocol.ParseNamespace(nsp, out auth);
        }
        var socket = GetSocket(nsp);
        if (packet.Type == SocketPacketType.Connect)
        {
            if (socket is not null || !TryAddConnecting(nsp))
            {
                InvalidState("CONNECT for a namespace already joined");
                return;
            }
            _ = ConnectAsync(nsp, auth);
            return;
        }
        if (socket is null || packet.Type == SocketPacketType.ConnectError)
        {
            InvalidState($"packet type {(int)packet.Type} for namespace {nsp}");
            return;
        }
        if (packet.Type is SocketPacketType.Event or SocketPacketType.BinaryEvent && packet.EventName == "error")
        {
            // An event named "error" crashed Node servers without an error listener (socket.io SECURITY.md); a
            // client never has a reason to send one, so it is treated as an invalid packet.
            SocketLog.InvalidPacket(_server.Logger, Connection.Id, "event named 'error'");
            Close(DisconnectReasons.ForcedServerClose);
            return;
        }
        socket.OnPacket(packet);
    }

    /// <summary>
    /// Joins a namespace: resolves it (dynamic namespaces run their matcher), runs its middlewares, then connects
    /// the socket. Whatever fails is logged and answered with a CONNECT_ERROR: the client is never left waiting.
    /// </summary>
    private async Task ConnectAsync(string name, JsonElement? auth)
    {
        ParleySocket? socket = null;
        try
        {
            var nsp = await _server.ResolveNamespaceAsync(name, auth);
            if (nsp is null)
            {
                SocketLog.InvalidNamespace(_server.Logger, Connection.Id, name);
                SendConnectError(name, "Invalid namespace", null);
                _server.Metrics.ConnectRefused("invalid_namespace");
                return;
            }
            socket = await nsp.AuthorizeAsync(this, auth);
            if (socket is not null)
            {
                Connect(nsp, socket);
            }
        }
        catch (Exception ex)
        {
            SocketLog.ConnectFailed(_server.Logger, Connection.Id, name, ex);
            SendConnectError(name, "server error", null);
            _server.Metrics.ConnectRefused("server_error");
        }
        finally
        {
            if (socket?.Capture is { } capture)
            {
                socket.Namespace.Adapter.EndRestore(capture); // not attached: the connection closed meanwhile, or it failed
            }
            RemoveConnecting(name);
        }
    }

    /// <summary>
    /// Registers the socket, sends the CONNECT ack and runs the connection handlers (up to their first await), in
    /// socket.io's order (namespace.ts _doConnect, socket.ts _onconnect): emits of the handlers follow the ack.
    /// It all happens under this client's receive lock, so the client's first packets after the ack (read on
    /// another thread when a middleware or matcher went async) wait until the handlers have registered theirs; in
    /// Node a single thread gives the same guarantee.
    /// </summary>
    private void Connect(Namespace nsp, ParleySocket socket)
    {
        lock (_receiveLock)
        {
            if (Connection.IsClosed)
            {
                return;
            }
            if (socket.Restored is { } restored)
            {
                if (!nsp.Adapter.AttachRecovered(socket, restored, () => Add(nsp, socket), out var incomplete))
                {
                    return;
                }
                socket.ClearRestored();
                if (incomplete)
                {
                    // The session is kept again on close, and the client recovers from the last packet it got.
                    Close(DisconnectReasons.ForcedServerClose);
                    return;
                }
            }
            else if (!Add(nsp, socket))
            {
                return;
            }
            nsp.OnSocketConnected(socket);
        }
    }

    /// <summary>Registers the socket and queues its CONNECT ack; false when the connection closed meanwhile.</summary>
    private bool Add(Namespace nsp, ParleySocket socket)
    {
        nsp.Add(socket);
        SetSocket(nsp.Name, socket);
        Interlocked.Exchange(ref _connectTimer, null)?.Dispose();
        if (Connection.IsClosed)
        {
            // The connection closed while the socket was being added, perhaps after OnClose had looked at
            // _sockets: close it here (OnClose is idempotent) so no namespace keeps it.
            socket.OnClose(Connection.CloseReason ?? EngineCloseReasons.TransportClose);
            return false;
        }
        Send(Connection.Protocol == 3 ? LegacySocketProtocol.ConnectFrame(nsp.Name) : nsp.ConnectFrame(socket.Id, socket.Pid));
        return true;
    }

    internal void SendConnectError(string nsp, string message, JsonElement? data)
    {
        if (Connection.Protocol == 3)
        {
            Send(LegacySocketProtocol.ErrorFrame(nsp, message, data));
            return;
        }
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64);
        buffer.Write("4"u8);
        SocketPacketWriter.WriteHeader(buffer, SocketPacketType.ConnectError, nsp, null, 0);
        using (var writer = new Utf8JsonWriter(buffer, SocketJson.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("message"u8);
            SocketJson.WriteStringValue(writer, message);
            if (data is { } d)
            {
                writer.WritePropertyName("data"u8);
                SocketJson.WriteValue(writer, d);
            }
            writer.WriteEndObject();
        }
        Send(EnginePacket.FromTextFrame(buffer.WrittenMemory, compress: false));
    }

    private int _faults;

    /// <summary>
    /// Counts a packet that decoded but that a handler could not read. The first of a connection is logged (through
    /// a server-wide one-a-second throttle, so connection churn cannot flood the log either); later ones only
    /// feed the metric; at <see cref="ParleyOptions.MaxClientFaults"/> the connection is closed, as socket.io
    /// closes one whose packet does not decode (client.ts onerror). Called from handlers' threads.
    /// </summary>
    internal void OnClientFault(string kind, string detail)
    {
        ClientFaultMetrics.Add(kind);
        var count = Interlocked.Increment(ref _faults);
        if (count == 1 && _server.ClientFaultLines.ShouldLog("first", out var connections))
        {
            SocketLog.ClientFault(_server.Logger, Connection.Id, detail, connections);
        }
        if (count == _server.Options.MaxClientFaults)
        {
            ClientFaultMetrics.Closes.Add(1);
            SocketLog.TooManyClientFaults(_server.Logger, Connection.Id, count);
            Close(DisconnectReasons.ForcedServerClose);
        }
    }

    private void InvalidState(string detail)
    {
        SocketLog.InvalidState(_server.Logger, Connection.Id, detail);
        Close(DisconnectReasons.ForcedServerClose);
    }

    /// <summary>
    /// Disconnects every socket of this client, then closes the connection (socket.disconnect(true)); the client,
    /// having no namespace left, closes it itself when it reads the DISCONNECT packets, and is given a moment to.
    /// </summary>
    public void DisconnectAll()
    {
        foreach (var (_, socket) in Volatile.Read(ref _sockets))
        {
            socket.Disconnect();
        }
        Connection.Close(PeerCloseGrace);
    }

    /// <summary>How long a client told to disconnect may take to close its connection before the server does.</summary>
    private static readonly TimeSpan PeerCloseGrace = TimeSpan.FromSeconds(1);

    private void Close(string reason)
    {
        foreach (var (_, socket) in Volatile.Read(ref _sockets))
        {
            socket.OnClose(reason);
        }
        Connection.Close();
    }

    private void OnClose(string reason)
    {
        Interlocked.Exchange(ref _connectTimer, null)?.Dispose();
        foreach (var (_, socket) in Volatile.Read(ref _sockets))
        {
            socket.OnClose(reason);
        }
        _decoder.Reset();
    }
}

/// <summary>Which parser a connection speaks.</summary>
internal enum SocketParserState
{
    /// <summary>No packet read yet.</summary>
    Undecided,

    /// <summary>socket.io-parser.</summary>
    Default,

    /// <summary>socket.io-msgpack-parser.</summary>
    MessagePack,
}

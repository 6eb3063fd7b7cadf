using System.Buffers;
using System.IO.Compression;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using Parley.Protocol.EngineIO;

namespace Parley.EngineIO;

// HTTP long-polling (engine.io lib/transports/polling.ts): a GET waits for packets, a POST delivers a payload.
public sealed partial class EngineConnection
{
    /// <summary>True while a POST is being read (a second one meanwhile is an overlap).</summary>
    internal bool IsReceivingPost
    {
        get
        {
            lock (_lock)
            {
                return _transport is PollingTransport { PostActive: true };
            }
        }
    }

    /// <summary>
    /// Answers a GET: waits until something is queued (or an upgrade or a close needs the poll answered), then
    /// writes everything queued as one payload.
    /// </summary>
    internal async Task HandlePollAsync(HttpContext context)
    {
        PollingTransport polling;
        lock (_lock)
        {
            if (_transport is not PollingTransport current)
            {
                // Upgraded between the server's routing and here.
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }
            polling = current;
            if (polling.PollActive)
            {
                // A second concurrent GET is a protocol violation: it gets 400 and the session closes, which answers
                // the first GET with a close packet (polling.ts onPollRequest, "overlap from client").
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                EngineLog.BadRequest(_server.Logger, Id, "overlapping poll");
                goto overlap;
            }
            polling.PollActive = true;
        }

        var aborted = context.RequestAborted;
        var answering = false;
        try
        {
            while (true)
            {
                List<EnginePacket>? packets = null;
                Task? wait = null;
                long taken = 0;
                var closeAfterWrite = false;
                lock (_lock)
                {
                    if (_state == EngineConnectionState.Closed)
                    {
                        packets = polling.FinalPacket is null ? [] : [polling.FinalPacket];
                        polling.FinalPacket = null;
                        _server.Remove(this);
                    }
                    else if (_transport != polling || polling.Upgrading)
                    {
                        // The client is moving to WebSocket: end the poll so it can commit the upgrade
                        // (socket.ts _maybeUpgrade sends noops to a writable polling transport).
                        packets = TakeOutbox(out taken) ?? [EnginePacket.Noop];
                    }
                    else
                    {
                        packets = TakeOutbox(out taken);
                        if (packets is null && _state == EngineConnectionState.Closing)
                        {
                            // A graceful close sends what was queued first and the close packet alone on the next
                            // GET, as engine.io does (socket.ts close waits for "drain"; polling.ts doClose sets
                            // shouldClose for the next poll). In one payload the official client would handle the
                            // close before the packets ahead of it: engine.io-client closes while decoding the
                            // payload, socket.io-client delivers decoded packets on the next tick, so a DISCONNECT
                            // in the same payload was lost and sockets saw "transport close".
                            packets = [EnginePacket.Close];
                            closeAfterWrite = true;
                        }
                        else if (packets is null)
                        {
                            wait = OutboxSignal();
                        }
                    }
                    if (packets is not null)
                    {
                        // The poll stops being pending once its answer is taken, before it is written: the client
                        // sends its next GET as soon as it has read this one, possibly before this request's code
                        // resumes after the write, and that GET must not look like an overlap (engine.io clears
                        // this.req right after res.end, in the same tick).
                        polling.PollActive = false;
                        answering = true;
                    }
                }
                if (packets is not null)
                {
                    await WritePayloadAsync(context, packets);
                    Written(taken);
                    _server.Metrics.EngineSent(EngineTransport.Polling, packets.Count, taken);
                    if (closeAfterWrite)
                    {
                        OnClose(EngineCloseReasons.ForcedClose);
                    }
                    return;
                }
                await wait!.WaitAsync(aborted);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away while its poll was pending (polling.ts: "poll connection closed prematurely").
            OnClose(EngineCloseReasons.TransportError);
        }
        finally
        {
            if (!answering)
            {
                lock (_lock)
                {
                    polling.PollActive = false;
                }
            }
        }
        return;

    overlap:
        OnClose(EngineCloseReasons.TransportError);
    }

    /// <summary>Answers a POST: reads the payload (at most MaxHttpBufferSize bytes) and delivers its packets.</summary>
    internal async Task HandlePostAsync(HttpContext context)
    {
        var request = context.Request;
        PollingTransport polling;
        lock (_lock)
        {
            if (_transport is not PollingTransport current)
            {
                // Upgraded between the server's routing and here.
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }
            polling = current;
            if (polling.PostActive)
            {
                goto overlap;
            }
            polling.PostActive = true;
        }
        try
        {
            // v4 payloads are text; binary goes base64 inside it (polling.ts onDataRequest: "invalid content"). v3
            // clients that take binary send binary payloads as application/octet-stream.
            var isBinaryPayload = string.Equals(request.ContentType, "application/octet-stream", StringComparison.OrdinalIgnoreCase);
            if (isBinaryPayload && Protocol == 4)
            {
                EngineLog.BadRequest(_server.Logger, Id, "binary content-type on a v4 POST");
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                OnClose(EngineCloseReasons.TransportError);
                return;
            }
            var limit = _options.MaxHttpBufferSize;
            if (request.ContentLength > limit)
            {
                await RejectTooLargeAsync(context);
                return;
            }
            var body = await ReadBodyAsync(request, limit, context.RequestAborted);
            if (body is null)
            {
                await RejectTooLargeAsync(context);
                return;
            }
            try
            {
                EnginePayloadCallback<EngineConnection> onPacket = static (self, type, isBinary, data) =>
                {
                    self.OnPacket(type, isBinary, data);
                    return self._state != EngineConnectionState.Closed;
                };
                var ok = Protocol == 3
                    ? EnginePayloadV3.TryRead(body.WrittenSpan, isBinaryPayload, this, onPacket)
                    : EnginePayload.TryRead(body.WrittenSpan, this, onPacket);
                if (!ok)
                {
                    EngineLog.BadPacket(_server.Logger, Id, "malformed polling payload");
                    context.Response.StatusCode = StatusCodes.Status400BadRequest;
                    OnClose(EngineCloseReasons.ParseError);
                    return;
                }
            }
            finally
            {
                body.Dispose();
            }
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "text/html";
            context.Response.ContentLength = 2;
            await context.Response.Body.WriteAsync("ok"u8.ToArray(), context.RequestAborted);
        }
        catch (Exception ex) when (ex is IOException || (ex is OperationCanceledException && context.RequestAborted.IsCancellationRequested))
        {
            // The client reset the connection or ended the body short of its Content-Length (Kestrel throws
            // ConnectionResetException or BadHttpRequestException, both IOExceptions): polling.ts onDataRequest,
            // "data request connection closed prematurely", closes the session as a transport error.
            EngineLog.TransportFailed(_logger, Id, "data request connection closed prematurely: " + ex.Message);
            OnClose(EngineCloseReasons.TransportError);
        }
        finally
        {
            lock (_lock)
            {
                polling.PostActive = false;
            }
        }
        return;

    overlap:
        EngineLog.BadRequest(_server.Logger, Id, "overlapping POST");
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        OnClose(EngineCloseReasons.TransportError);
    }

    private async Task RejectTooLargeAsync(HttpContext context)
    {
        EngineLog.BadRequest(_server.Logger, Id, "POST body over maxHttpBufferSize");
        context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
        // The connection is not reused: the rest of the body is not read.
        context.Response.Headers.Connection = "close";
        await context.Response.CompleteAsync();
        OnClose(EngineCloseReasons.TransportError);
    }

    /// <summary>Reads a request body into a pooled buffer; null when it exceeds <paramref name="limit"/>.</summary>
    private static async Task<PooledBuffer?> ReadBodyAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        var buffer = new PooledBuffer((int)Math.Min(request.ContentLength ?? 4096, limit) + 1);
        try
        {
            var body = request.Body;
            while (true)
            {
                var read = await body.ReadAsync(buffer.GetMemory(4096), cancellationToken);
                if (read == 0)
                {
                    var result = buffer;
                    buffer = null;
                    return result;
                }
                buffer.Advance(read);
                if (buffer.Length > limit)
                {
                    return null;
                }
            }
        }
        finally
        {
            buffer?.Dispose();
        }
    }

    private async Task WritePayloadAsync(HttpContext context, List<EnginePacket> packets)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.Headers.CacheControl = "no-store";
        using var payload = new PooledBuffer(EnginePayload.GetEncodedLength(packets));
        if (Protocol == 3)
        {
            // polling.ts doWrite: a binary payload (v3 only) goes as application/octet-stream.
            response.ContentType = EnginePayloadV3.IsBinaryPayload(packets, SupportsBinary) ? "application/octet-stream" : "text/plain; charset=UTF-8";
            EnginePayloadV3.Write(payload, packets, SupportsBinary);
        }
        else
        {
            response.ContentType = "text/plain; charset=UTF-8";
            EnginePayload.Write(payload, packets);
        }
        var encoding = _options.HttpCompression && payload.Length >= _options.HttpCompressionThreshold && packets.Exists(static p => p.Compress)
            ? ChooseEncoding(context.Request)
            : null;
        try
        {
            if (encoding is null)
            {
                response.ContentLength = payload.Length;
                await response.Body.WriteAsync(payload.WrittenMemory, context.RequestAborted);
                return;
            }
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            response.Headers.ContentEncoding = encoding;
            await using var compressor = encoding == "gzip"
                ? (Stream)new GZipStream(response.Body, CompressionLevel.Fastest, leaveOpen: true)
                : new ZLibStream(response.Body, CompressionLevel.Fastest, leaveOpen: true);
            await compressor.WriteAsync(payload.WrittenMemory, context.RequestAborted);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            OnClose(EngineCloseReasons.TransportError);
        }
    }

    private static string? ChooseEncoding(HttpRequest request)
    {
        var accept = request.Headers.AcceptEncoding.ToString();
        if (accept.Contains("gzip", StringComparison.OrdinalIgnoreCase))
        {
            return "gzip";
        }
        return accept.Contains("deflate", StringComparison.OrdinalIgnoreCase) ? "deflate" : null;
    }
}

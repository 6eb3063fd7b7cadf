using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Http;

namespace Parley.EngineIO;

/// <summary>engine.io's error codes for refused requests (server.ts <c>Server.errors</c>).</summary>
public enum EngineError
{
    /// <summary>0: transport missing, unknown or disabled.</summary>
    UnknownTransport = 0,

    /// <summary>1: no session with that sid.</summary>
    UnknownSid = 1,

    /// <summary>2: a handshake that is not a GET.</summary>
    BadHandshakeMethod = 2,

    /// <summary>3: anything else wrong with the request (transport mismatch, WebSocket transport over plain HTTP…).</summary>
    BadRequest = 3,

    /// <summary>4: refused by AllowRequest (HTTP 403).</summary>
    Forbidden = 4,

    /// <summary>5: <c>EIO</c> is not 4.</summary>
    UnsupportedProtocolVersion = 5,
}

public sealed partial class EngineServer
{
    private static readonly string[] s_messages =
    [
        "Transport unknown",
        "Session ID unknown",
        "Bad handshake method",
        "Bad request",
        "Forbidden",
        "Unsupported protocol version",
    ];

    /// <summary>
    /// Refuses a request as engine.io does (server.ts abortRequest / abortUpgrade): HTTP requests get 400 (403 for
    /// Forbidden) with <c>{"code":N,"message":…}</c>; WebSocket handshakes get a plain 400 with the message as
    /// text/html and <c>Connection: close</c>.
    /// </summary>
    private Task RefuseAsync(HttpContext context, EngineError error, bool isWebSocket, string? detail, string? message = null)
    {
        var code = (int)error;
        message ??= s_messages[code];
        EngineLog.RequestRefused(Logger, code, message, context.Request.Method, Truncate(detail));
        Metrics.EngineRefused(error);
        var response = context.Response;
        if (isWebSocket)
        {
            response.StatusCode = StatusCodes.Status400BadRequest;
            response.Headers.Connection = "close";
            response.ContentType = "text/html";
            var body = Encoding.UTF8.GetBytes(message);
            response.ContentLength = body.Length;
            return response.Body.WriteAsync(body, 0, body.Length, context.RequestAborted);
        }
        response.StatusCode = error == EngineError.Forbidden ? StatusCodes.Status403Forbidden : StatusCodes.Status400BadRequest;
        response.ContentType = "application/json";
        var json = Encoding.UTF8.GetBytes(string.Concat("{\"code\":", code.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ",\"message\":\"", JavaScriptEncoder.UnsafeRelaxedJsonEscaping.Encode(message), "\"}"));
        response.ContentLength = json.Length;
        return response.Body.WriteAsync(json, 0, json.Length, context.RequestAborted);
    }

    private static string? Truncate(string? value) => value is { Length: > 64 } ? value[..64] + "…" : value;
}

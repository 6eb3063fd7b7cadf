using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Parley.Hosting;

/// <summary>
/// Serves the official socket.io browser client embedded at build time (socket.io index.ts serve: ETag by
/// client version, 304 when it matches, <c>cache-control: public, max-age=0</c>).
/// </summary>
internal static class ClientBundle
{
    public static readonly string[] FileNames =
    [
        "socket.io.js", "socket.io.js.map", "socket.io.min.js", "socket.io.min.js.map",
        "socket.io.msgpack.min.js", "socket.io.msgpack.min.js.map", "socket.io.esm.min.js", "socket.io.esm.min.js.map",
    ];

    private static readonly Lazy<FrozenDictionary<string, byte[]>> s_files = new(Load);
    private static readonly Lazy<string> s_etag = new(() =>
    {
        var json = Read("package.json");
        using var doc = JsonDocument.Parse(json ?? "{}"u8.ToArray());
        return "\"" + (doc.RootElement.TryGetProperty("version", out var v) ? v.GetString() : "0") + "\"";
    });

    public static string Version => s_etag.Value.Trim('"');

    private static FrozenDictionary<string, byte[]> Load()
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var name in FileNames)
        {
            if (Read(name) is { } bytes)
            {
                files[name] = bytes;
            }
        }
        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static byte[]? Read(string name)
    {
        using var stream = typeof(ClientBundle).Assembly.GetManifestResourceStream("Parley.Client." + name);
        if (stream is null)
        {
            return null;
        }
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    public static Task ServeAsync(HttpContext context, string file)
    {
        var response = context.Response;
        if (!s_files.Value.TryGetValue(file, out var bytes))
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }
        var etag = s_etag.Value;
        response.Headers.CacheControl = "public, max-age=0";
        response.Headers.ETag = etag;
        if (context.Request.Headers.IfNoneMatch.ToString() == etag)
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }
        response.ContentType = file.EndsWith(".map", StringComparison.Ordinal) ? "application/json" : "application/javascript; charset=utf-8";
        response.ContentLength = bytes.Length;
        return response.Body.WriteAsync(bytes, 0, bytes.Length, context.RequestAborted);
    }
}

using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Parley.Load;

/// <summary>
/// A <see cref="SioClient"/> on HTTP long-polling: one GET always pending, packets sent in POSTs, packets in a
/// payload separated by the record separator (engine.io-protocol v4, "HTTP long-polling").
/// </summary>
internal sealed class PollingSioClient : SioClient
{
    private const byte Separator = 0x1e;

    private readonly string? _cookie;
    private readonly CancellationTokenSource _stop = new();
    private string _uri = "";

    public PollingSioClient(LoadTarget target, int index, string? cookie) : base(target, index)
    {
        _cookie = cookie;
    }

    protected override async Task OpenAsync(CancellationToken ct)
    {
        var body = await GetAsync(Target.PollingUri, ct);
        var first = body.AsSpan();
        var end = first.IndexOf(Separator);
        if (end >= 0)
        {
            first = first[..end];
        }
        if (first.IsEmpty || first[0] != (byte)'0')
        {
            throw new LoadException("no Engine.IO open packet");
        }
        using var open = JsonDocument.Parse(body.AsMemory(1, first.Length - 1));
        var sid = open.RootElement.GetProperty("sid").GetString() ?? throw new LoadException("no sid");
        _uri = Target.PollingUri + "&sid=" + Uri.EscapeDataString(sid);
        _ = PollLoopAsync();
    }

    private async Task<byte[]> GetAsync(string uri, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        AddCookie(request);
        using var response = await Target.Http.SendAsync(request, ct);
        if (!HttpStatus.IsOk(response.StatusCode))
        {
            throw new LoadException($"polling GET answered {(int)response.StatusCode}");
        }
        return await response.Content.ReadAsByteArrayAsync(ct);
    }

    private void AddCookie(HttpRequestMessage request)
    {
        if (_cookie is not null)
        {
            request.Headers.TryAddWithoutValidation("Cookie", _cookie);
        }
    }

    private async Task PollLoopAsync()
    {
        string? reason = "transport close";
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var body = await GetAsync(_uri, _stop.Token);
                var rest = body.AsSpan();
                while (!rest.IsEmpty)
                {
                    var end = rest.IndexOf(Separator);
                    var packet = end < 0 ? rest : rest[..end];
                    // Binary packets arrive base64-encoded with a "b" prefix; the tool has no use for them.
                    if (!packet.IsEmpty && packet[0] != (byte)'b')
                    {
                        OnEnginePacket(packet);
                    }
                    rest = end < 0 ? [] : rest[(end + 1)..];
                }
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or LoadException)
        {
            reason = ex is LoadException ? ex.Message : "transport error";
        }
        OnTransportClosed(IsOpen ? reason : null);
    }

    protected override async Task WriteAsync(List<string> packets)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _uri)
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(string.Join('\u001e', packets))),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("text/plain") { CharSet = "UTF-8" };
        AddCookie(request);
        using var response = await Target.Http.SendAsync(request, _stop.Token);
        if (!HttpStatus.IsOk(response.StatusCode))
        {
            throw new LoadException($"polling POST answered {(int)response.StatusCode}");
        }
    }

    protected override void CloseTransport() => _ = CloseAsync();

    private async Task CloseAsync()
    {
        try
        {
            await WriteAsync(["1"]);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or LoadException)
        {
        }
        _stop.Cancel();
    }

    protected override void AbortTransport() => _stop.Cancel();
}

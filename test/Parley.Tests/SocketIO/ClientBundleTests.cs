using System.Net;
using Parley.Testing;

namespace Parley.Tests.SocketIO;

/// <summary>The official browser client served at <c>/socket.io/socket.io.js</c> (socket.io index.ts serve).</summary>
public sealed class ClientBundleTests : IAsyncLifetime
{
    private SioHost _host = null!;
    private SioHost _noClient = null!;
    private readonly HttpClient _http = new();

    public async Task InitializeAsync()
    {
        _host = await SioHost.StartAsync(_ => { });
        _noClient = await SioHost.StartAsync(_ => { }, o => o.ServeClient = false);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _host.DisposeAsync();
        await _noClient.DisposeAsync();
    }

    [Theory]
    [InlineData("socket.io.js", "application/javascript")]
    [InlineData("socket.io.min.js", "application/javascript")]
    [InlineData("socket.io.js.map", "application/json")]
    [InlineData("socket.io.min.js.map", "application/json")]
    public async Task Serves_the_bundle_with_an_etag_and_answers_304_when_it_matches(string file, string contentType)
    {
        using var response = await _http.GetAsync(_host.Url + "/socket.io/" + file).WithTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith(contentType, response.Content.Headers.ContentType!.ToString());
        var body = await response.Content.ReadAsStringAsync().WithTimeout();
        Assert.True(body.Length > 1000);
        if (!file.EndsWith(".map", StringComparison.Ordinal))
        {
            Assert.Contains("Socket.IO", body, StringComparison.OrdinalIgnoreCase);
        }
        var etag = response.Headers.ETag!;
        Assert.Matches("^\"4\\.8\\.\\d+\"$", etag.Tag);

        using var request = new HttpRequestMessage(HttpMethod.Get, _host.Url + "/socket.io/" + file);
        request.Headers.IfNoneMatch.Add(etag);
        using var cached = await _http.SendAsync(request).WithTimeout();
        Assert.Equal(HttpStatusCode.NotModified, cached.StatusCode);
        Assert.Empty(await cached.Content.ReadAsByteArrayAsync().WithTimeout());
    }

    [Fact]
    public async Task ServeClient_false_answers_404()
    {
        using var response = await _http.GetAsync(_noClient.Url + "/socket.io/socket.io.js").WithTimeout();
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}

using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Parley.Testing;

namespace Parley.Tests.SocketIO;

/// <summary>
/// What <c>FetchSocketsAsync</c> shares of a handshake: the redactors and <see cref="ParleySocket.RedactHandshake"/>
/// run when <see cref="ParleySocket.SharedHandshake"/> is read, not at the handshake, and once.
/// </summary>
public sealed class HandshakeRedactionTests
{
    private sealed class HeaderRedactor : IHandshakeRedactor
    {
        public int Calls;

        public SocketHandshake Redact(SocketHandshake handshake)
        {
            Interlocked.Increment(ref Calls);
            return handshake.With(headers: handshake.Headers.Where(h => h.Key != "x-secret").ToDictionary());
        }
    }

    [Fact]
    public async Task Redactions_run_at_each_read_of_the_shared_handshake_and_the_redactors_are_resolved_once()
    {
        var redactor = new HeaderRedactor();
        var resolutions = 0;
        var socketRedactions = 0;
        var emptyAuth = JsonDocument.Parse("{}").RootElement;
        await using var host = await ParleyTestHost.StartAsync(
            io => io.Use(async (socket, next) =>
            {
                socket.RedactHandshake(h =>
                {
                    Interlocked.Increment(ref socketRedactions);
                    return h.With(auth: emptyAuth);
                });
                await next();
            }),
            services: b => b.Services.AddTransient<IHandshakeRedactor>(_ =>
            {
                Interlocked.Increment(ref resolutions);
                return redactor;
            }));

        var ids = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var h = await host.Driver.CallForHandleAsync("sio.connect", new
            {
                url = host.Url,
                opts = new { transports = new[] { "websocket" }, extraHeaders = new Dictionary<string, string> { ["x-secret"] = "s" }, auth = new { token = "t" } },
            });
            ids.Add((await host.Driver.NextEventAsync(h, "connect"))!["id"]!.GetValue<string>());
        }
        var socket = await host.SocketAsync(ids[0]);
        Assert.Equal((0, 0, 0), (resolutions, redactor.Calls, socketRedactions));

        var fetched = await host.Io.FetchSocketsAsync().WithTimeout();
        Assert.Equal(2, fetched.Count);
        foreach (var remote in fetched)
        {
            Assert.Null(remote.Handshake.GetHeader("x-secret"));
            Assert.Equal("{}", remote.Handshake.Auth.GetRawText());
        }
        Assert.Equal("s", socket.Handshake.GetHeader("x-secret"));
        Assert.Equal("""{"token":"t"}""", socket.Handshake.Auth.GetRawText());
        // A fetch whose handshakes nobody reads redacts nothing; one that reads them redacts again (nothing is kept
        // per socket), with the redactors resolved once.
        var unread = await host.Io.FetchSocketsAsync().WithTimeout();
        Assert.Equal(2, unread.Count);
        Assert.Equal((1, 2, 2), (resolutions, redactor.Calls, socketRedactions));
        Assert.All(unread, remote => Assert.Null(remote.Handshake.GetHeader("x-secret")));
        Assert.Same(unread[0].Handshake, unread[0].Handshake);
        Assert.Equal((1, 4, 4), (resolutions, redactor.Calls, socketRedactions));

        // A redaction added later applies at the next read, on top of the others.
        socket.RedactHandshake(h => h.With(headers: new Dictionary<string, string>()));
        var shared = socket.SharedHandshake;
        Assert.Empty(shared.Headers);
        Assert.Equal("{}", shared.Auth.GetRawText());
        Assert.Equal((1, 5, 5), (resolutions, redactor.Calls, socketRedactions));
    }
}

using System.Text.Json;
using Parley.Internal;

namespace Parley.Sessions.Tests;

/// <summary>The Origin rule of cookie-authenticated handshakes: scheme, host and port, default ports made explicit.</summary>
public sealed class OriginPolicyTests
{
    private static SocketHandshake Handshake(string host, bool secure, string? origin)
    {
        var headers = new Dictionary<string, string>(StringComparer.Ordinal) { ["host"] = host };
        if (origin is not null)
        {
            headers["origin"] = origin;
        }
        return new SocketHandshake(headers, DateTimeOffset.UnixEpoch, "127.0.0.1", origin is not null, secure, 0, "/socket.io/", new Dictionary<string, string>(), default(JsonElement));
    }

    [Theory]
    [InlineData("example.com", false, "http://example.com", true)]
    [InlineData("example.com:80", false, "http://example.com", true)]
    [InlineData("example.com", false, "http://example.com:80", true)]
    [InlineData("Example.COM", false, "HTTP://EXAMPLE.com", true)]
    [InlineData("example.com", false, "http://example.com/", true)]
    [InlineData("example.com", true, "https://example.com:443", true)]
    [InlineData("example.com:8443", true, "https://example.com:8443", true)]
    [InlineData("[::1]:5000", false, "http://[::1]:5000", true)]
    [InlineData("example.com", false, null, true)]
    [InlineData("example.com", false, "https://example.com", false)]
    [InlineData("example.com", true, "http://example.com", false)]
    [InlineData("example.com:8080", false, "https://example.com:8080", false)]
    [InlineData("example.com", false, "http://example.com:8080", false)]
    [InlineData("example.com", false, "http://example.com.evil.com", false)]
    [InlineData("example.com", false, "http://evil-example.com", false)]
    [InlineData("example.com", false, "http://user@example.com", false)]
    [InlineData("example.com", false, "http://example.com/path", false)]
    [InlineData("example.com", false, "null", false)]
    [InlineData("example.com", false, "", false)]
    [InlineData("example.com", false, "example.com", false)]
    [InlineData("example.com", false, "ws://example.com", false)]
    public void Same_origin_is_scheme_host_and_port(string host, bool secure, string? origin, bool allowed)
    {
        var policy = new OriginPolicy([], "AllowedOrigins");
        Assert.Equal(allowed, policy.IsAllowed(Handshake(host, secure, origin)));
    }

    [Theory]
    [InlineData("https://app.example", true)]
    [InlineData("https://app.example:443", true)]
    [InlineData("https://APP.example/", true)]
    [InlineData("http://app.example", false)]
    [InlineData("https://app.example:8443", false)]
    [InlineData("http://127.0.0.1:5000", true)] // the request's own origin stays allowed
    [InlineData("http://other.example", false)]
    public void The_allow_list_adds_origins_compared_the_same_way(string origin, bool allowed)
    {
        var policy = new OriginPolicy(["https://app.example/", "http://localhost:3000"], "AllowedOrigins");
        Assert.Equal(allowed, policy.IsAllowed(Handshake("127.0.0.1:5000", false, origin)));
    }

    [Theory]
    [InlineData("app.example")]
    [InlineData("*")]
    [InlineData("null")]
    [InlineData("ftp://app.example")]
    [InlineData("https://app.example/path")]
    public void An_allow_list_entry_that_is_not_an_origin_is_refused_at_start_up(string entry)
    {
        var ex = Assert.Throws<ArgumentException>(() => new OriginPolicy([entry], "SocketSessionOptions.AllowedOrigins"));
        Assert.Contains(entry, ex.Message, StringComparison.Ordinal);
    }
}

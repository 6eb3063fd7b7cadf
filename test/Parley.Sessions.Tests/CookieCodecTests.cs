namespace Parley.Sessions.Tests;

/// <summary>encodeURIComponent / decodeURIComponent and jshttp/cookie parse/serialize behaviour (docs/wire-formats.md §1.1).</summary>
public class CookieCodecTests
{
    [Theory]
    // Values computed with Node's encodeURIComponent.
    [InlineData("s:abc.BpxCrWRpvZMh/wk/djl34N+m+VQEU7K/5WenLwJCgFU", "s%3Aabc.BpxCrWRpvZMh%2Fwk%2Fdjl34N%2Bm%2BVQEU7K%2F5WenLwJCgFU")]
    [InlineData("AZaz09-_.!~*'()", "AZaz09-_.!~*'()")]
    [InlineData(" \"#$%&+,/:;<=>?@[\\]^`{|}", "%20%22%23%24%25%26%2B%2C%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E%60%7B%7C%7D")]
    [InlineData("Zoë", "Zo%C3%AB")]
    [InlineData("€", "%E2%82%AC")]
    [InlineData("😀", "%F0%9F%98%80")]
    [InlineData("", "")]
    public void EncodeUriComponent_matches_javascript(string value, string expected)
    {
        Assert.Equal(expected, CookieCodec.EncodeUriComponent(value));
        Assert.True(CookieCodec.TryDecodeUriComponent(expected, out var back));
        Assert.Equal(value, back);
    }

    [Fact]
    public void EncodeUriComponent_throws_on_a_lone_surrogate_like_javascript()
    {
        Assert.Throws<ArgumentException>(() => CookieCodec.EncodeUriComponent("a\ud800b"));
    }

    [Theory]
    [InlineData("%")]
    [InlineData("%2")]
    [InlineData("%ZZ")]
    [InlineData("%C3")]       // truncated UTF-8
    [InlineData("%C3%28")]    // bad continuation byte
    [InlineData("%ED%A0%80")] // encoded surrogate
    [InlineData("%C0%AF")]    // overlong
    public void DecodeUriComponent_refuses_what_javascript_refuses(string value)
    {
        Assert.False(CookieCodec.TryDecodeUriComponent(value, out _));
    }

    [Theory]
    [InlineData("connect.sid=abc", "abc")]
    [InlineData("a=1; connect.sid=abc; b=2", "abc")]
    [InlineData("connect.sid=first; connect.sid=second", "first")]
    [InlineData("  connect.sid  =  abc  ", "abc")]
    [InlineData("connect.sid=\"abc\"", "abc")]
    [InlineData("connect.sid=\"", "")]
    [InlineData("connect.sid=", "")]
    [InlineData("connect.sid=s%3Aabc", "s:abc")]
    [InlineData("connect.sid=s%3Aab%ZZ", "s%3Aab%ZZ")] // tryDecode keeps the raw value
    [InlineData("foo; connect.sid=abc", "abc")]        // a pair without '=' is skipped (backtracking)
    [InlineData("xconnect.sid=1; connect.sidx=2; connect.sid=3", "3")]
    [InlineData("connect.sid=a=b", "a=b")]
    public void GetFirst_matches_cookie_parse(string header, string expected)
    {
        Assert.Equal(expected, CookieCodec.GetFirst(header, "connect.sid"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("a=1; b=2")]
    [InlineData(";;;;")]
    [InlineData("connect.sid")]
    public void GetFirst_returns_null_when_absent(string header)
    {
        Assert.Null(CookieCodec.GetFirst(header, "connect.sid"));
    }

    [Fact]
    public void Serialize_writes_attributes_in_jshttp_cookie_order_without_max_age()
    {
        var time = new ManualTimeProvider(DateTimeOffset.Parse("2026-11-22T02:07:48.532Z", System.Globalization.CultureInfo.InvariantCulture));
        var options = new ParleySessionOptions { MaxAge = TimeSpan.FromHours(1), Domain = "example.com", SameSite = Microsoft.AspNetCore.Http.SameSiteMode.Lax, Secure = Microsoft.AspNetCore.Http.CookieSecurePolicy.Always };
        options.Secrets.Add("keyboard cat");
        var manager = new ParleySessionManager(Microsoft.Extensions.Options.Options.Create(options), new MemorySessionStore(Microsoft.Extensions.Options.Options.Create(new MemorySessionStoreOptions())), time, Microsoft.Extensions.Logging.Abstractions.NullLogger<ParleySessionManager>.Instance);
        var session = manager.Create();
        var header = manager.CreateSetCookieHeader(session);
        var signed = CookieCodec.EncodeUriComponent("s:" + CookieSignature.Sign(session.Id, "keyboard cat"));
        Assert.Equal($"connect.sid={signed}; Domain=example.com; Path=/; Expires=Sun, 22 Nov 2026 03:07:48 GMT; HttpOnly; Secure; SameSite=Lax", header);
    }
}

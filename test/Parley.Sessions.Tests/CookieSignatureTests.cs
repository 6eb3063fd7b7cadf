namespace Parley.Sessions.Tests;

/// <summary>Test vectors from docs/wire-formats.md §1.1, verified there against cookie-signature 1.0.7.</summary>
public class CookieSignatureTests
{
    [Theory]
    [InlineData("abc", "keyboard cat", "abc.BpxCrWRpvZMh/wk/djl34N+m+VQEU7K/5WenLwJCgFU")]
    [InlineData("tX0yY2d-nE2tq8g7T4j4lFBmwZ3xQf0m", "keyboard cat", "tX0yY2d-nE2tq8g7T4j4lFBmwZ3xQf0m.PlUj8yVoEksfUDYAnZ9g4MGxyv5+3FuaTMYyAGN4DbU")]
    public void Sign_matches_cookie_signature(string value, string secret, string expected)
    {
        Assert.Equal(expected, CookieSignature.Sign(value, secret));
        Assert.True(CookieSignature.TryUnsign(expected, secret, out var back));
        Assert.Equal(value, back);
    }

    [Fact]
    public void Mac_is_standard_base64_without_padding()
    {
        for (var i = 0; i < 200; i++)
        {
            var signed = CookieSignature.Sign("id" + i, "s3cr3t");
            var mac = signed[(signed.LastIndexOf('.') + 1)..];
            Assert.Equal(43, mac.Length);
            Assert.DoesNotContain('=', mac);
            Assert.DoesNotContain('-', mac);
            Assert.DoesNotContain('_', mac);
        }
    }

    [Theory]
    [InlineData("abc.BpxCrWRpvZMh/wk/djl34N+m+VQEU7K/5WenLwJCgFV")] // last char changed
    [InlineData("abd.BpxCrWRpvZMh/wk/djl34N+m+VQEU7K/5WenLwJCgFU")] // value changed
    [InlineData("abc.BpxCrWRpvZMh/wk/djl34N+m+VQEU7K/5WenLwJCgFU=")] // padding kept
    [InlineData("abc")]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("abc.")]
    public void Unsign_refuses_tampered_values(string input)
    {
        Assert.False(CookieSignature.TryUnsign(input, "keyboard cat", out _));
    }

    [Fact]
    public void Unsign_refuses_another_secret()
    {
        Assert.False(CookieSignature.TryUnsign("abc.BpxCrWRpvZMh/wk/djl34N+m+VQEU7K/5WenLwJCgFU", "keyboard dog", out _));
    }

    [Fact]
    public void Unsign_splits_at_the_last_dot()
    {
        var signed = CookieSignature.Sign("a.b.c", "k");
        Assert.True(CookieSignature.TryUnsign(signed, "k", out var value));
        Assert.Equal("a.b.c", value);
    }

    [Fact]
    public void Keys_and_values_are_utf8()
    {
        // Node: require('cookie-signature').sign('Zoë','clé') — computed here with the same definition.
        var mac = Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes("clé"), System.Text.Encoding.UTF8.GetBytes("Zoë"))).TrimEnd('=');
        Assert.Equal("Zoë." + mac, CookieSignature.Sign("Zoë", "clé"));
    }

    [Fact]
    public void Long_values_are_signed_and_verified()
    {
        var value = new string('x', 10_000);
        var signed = CookieSignature.Sign(value, "k");
        Assert.True(CookieSignature.TryUnsign(signed, "k", out var back));
        Assert.Equal(value, back);
    }
}

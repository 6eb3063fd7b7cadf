using System.Net;
using System.Security.Claims;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Parley.Sessions.SocketIO;

namespace Parley.Sessions.Tests;

/// <summary>
/// io.UseAuthentication() with ASP.NET Core cookie authentication on a real Kestrel and the official client: the user
/// of the opening request is required, checked against Origin, kept out of what other nodes see, and signed out.
/// </summary>
public sealed class SocketAuthenticationTests
{
    private const string AuthCookie = ".AspNetCore.Cookies";

    private static Task<SocketApp> StartAsync(Action<SocketAuthenticationOptions>? configure = null) => SocketApp.StartAsync(new()
    {
        Services = b => b.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(),
        Pipeline = web =>
        {
            web.UseAuthentication();
            web.MapPost("/signin", async (HttpContext c, string user) =>
            {
                var identity = new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, user), new Claim(ClaimTypes.Name, user)], CookieAuthenticationDefaults.AuthenticationScheme);
                await c.SignInAsync(new ClaimsPrincipal(identity));
                return "ok";
            });
            web.MapPost("/signout", async (HttpContext c, ParleyServer io) =>
            {
                var user = c.User.FindFirstValue(ClaimTypes.NameIdentifier)!;
                await c.SignOutAsync();
                await io.DisconnectUserAsync(user);
                return "bye";
            });
        },
        Io = io => io.UseAuthentication(configure),
    });

    private static async Task<string> SignInAsync(SocketApp app, string user)
    {
        var reply = await app.SendAsync(HttpMethod.Post, "/signin?user=" + user);
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        return reply.SetCookies.Single(c => c.StartsWith(AuthCookie + "=", StringComparison.Ordinal)).Split(';')[0];
    }

    [Theory]
    [InlineData("websocket")]
    [InlineData("polling")]
    public async Task A_signed_in_user_connects_and_the_socket_carries_the_user(string transport)
    {
        await using var app = await StartAsync();
        var cookie = await SignInAsync(app, "ann");
        var client = await app.ConnectAsync(cookie, transport: transport);
        Assert.True(client.Connected, client.Error);
        Assert.Equal("ann", (await client.EmitWithAckAsync("user"))!.GetValue<string>());
        var socket = await app.SocketAsync(client.Id!);
        Assert.Contains(SocketAuthenticationExtensions.UserRoomPrefix + SocketAuthenticationExtensions.ComputeUserKey("ann"), socket.Rooms);
    }

    [Fact]
    public async Task Anonymous_and_forged_handshakes_are_refused_as_unauthorized()
    {
        await using var app = await StartAsync();
        Assert.Equal("unauthorized", (await app.ConnectAsync()).Error);
        Assert.Equal("unauthorized", (await app.ConnectAsync(AuthCookie + "=CfDJ8forged")).Error);
        Assert.Equal("unauthorized", (await app.ConnectAsync(transport: "polling")).Error);
    }

    [Fact]
    public async Task Validate_refuses_a_user_that_fails_it()
    {
        await using var app = await StartAsync(o => o.Validate = u => u.Identity!.Name != "mallory");
        Assert.True((await app.ConnectAsync(await SignInAsync(app, "ann"))).Connected);
        Assert.Equal("unauthorized", (await app.ConnectAsync(await SignInAsync(app, "mallory"))).Error);
    }

    [Theory]
    [InlineData("websocket")]
    [InlineData("polling")]
    public async Task An_authenticated_handshake_from_another_origin_is_refused(string transport)
    {
        await using var app = await StartAsync(o => o.AllowedOrigins.Add("https://app.example"));
        var cookie = await SignInAsync(app, "ann");
        async Task<string?> ErrorFrom(string? origin) => (await app.ConnectAsync(cookie, transport: transport, origin: origin)).Error;
        Assert.Null(await ErrorFrom(app.Url));
        Assert.Null(await ErrorFrom("https://app.example"));
        Assert.Null(await ErrorFrom(null));
        Assert.Equal("unauthorized", await ErrorFrom("http://evil.example"));
        Assert.Equal("unauthorized", await ErrorFrom("null"));
        Assert.Equal("unauthorized", await ErrorFrom(app.Url.Replace("http:", "https:", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Signing_out_disconnects_every_socket_of_that_user_only()
    {
        await using var app = await StartAsync();
        var ann = await SignInAsync(app, "ann");
        var bob = await SignInAsync(app, "bob");
        var ann1 = await app.ConnectAsync(ann);
        var ann2 = await app.ConnectAsync(ann, transport: "polling");
        var bob1 = await app.ConnectAsync(bob);

        Assert.Equal(HttpStatusCode.OK, (await app.SendAsync(HttpMethod.Post, "/signout", ann)).Status);
        Assert.Equal("io server disconnect", await ann1.DisconnectedAsync());
        Assert.Equal("io server disconnect", await ann2.DisconnectedAsync());
        Assert.Equal("bob", (await bob1.EmitWithAckAsync("user"))!.GetValue<string>());
    }

    [Fact]
    public async Task The_authentication_cookie_and_the_Authorization_header_are_not_shared()
    {
        await using var app = await StartAsync();
        var cookie = await SignInAsync(app, "ann");
        var client = await SioClient.ConnectAsync(app.Driver, app.Url, cookie: "theme=dark; " + cookie,
            extraHeaders: new JsonObject { ["authorization"] = "Bearer secret-token" });
        Assert.True(client.Connected, client.Error);

        var fetched = (await app.Io.FetchSocketsAsync()).Single(s => s.Id == client.Id);
        Assert.Equal("theme=dark", fetched.Handshake.GetHeader("cookie"));
        Assert.Null(fetched.Handshake.GetHeader("authorization"));
        Assert.Contains(cookie, fetched.LocalSocket!.Handshake.GetHeader("cookie"), StringComparison.Ordinal);
        Assert.Equal("Bearer secret-token", fetched.LocalSocket.Handshake.GetHeader("authorization"));
    }
}

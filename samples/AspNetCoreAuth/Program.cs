// Parley on ASP.NET Core authentication (cookies here; any scheme works): a socket is admitted only for a signed-in
// user from this site's own origin, and socket.User is that user. Signing out disconnects the user's sockets on
// every node.
//   dotnet run --project samples/AspNetCoreAuth
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Parley;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie();
builder.Services.AddAuthorization();
builder.Services.AddParley();
var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();

app.MapPost("/login", async (HttpContext context, string name) =>
{
    // A real app checks a password or an external identity here.
    var identity = new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, name), new Claim(ClaimTypes.Name, name)], CookieAuthenticationDefaults.AuthenticationScheme);
    await context.SignInAsync(new ClaimsPrincipal(identity));
    return Results.Ok(new { name });
});

app.MapPost("/logout", async (HttpContext context, ParleyServer io) =>
{
    var userId = context.User.FindFirstValue(ClaimTypes.NameIdentifier)!;
    await context.SignOutAsync();
    // The signed-out cookie may still be in another tab: end the user's open sockets, on every node.
    await io.Sockets.DisconnectUserAsync(userId);
    return Results.Ok();
}).RequireAuthorization();

app.MapParley("/socket.io", io =>
{
    // Refuses sockets without a signed-in user (connect_error "unauthorized") or from a foreign Origin.
    io.UseAuthentication();
    io.OnConnection(socket =>
    {
        // The name comes from the authenticated user, never from what the client sends.
        var name = socket.User.Identity!.Name!;
        socket.On("whoami", e => e.AckAsync(name));
        socket.On<string>("say", text => socket.Namespace.EmitAsync("said", new { name, text }));
    });
});
app.Run();

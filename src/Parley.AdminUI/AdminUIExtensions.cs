using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Parley.AdminUI;

namespace Parley;

/// <summary>Turns the official Socket.IO Admin UI on for a Parley server, and serves the UI itself.</summary>
public static class AdminUIExtensions
{
    private static readonly FileExtensionContentTypeProvider s_contentTypes = new();

    /// <summary>
    /// The server side of @socket.io/admin-ui 0.5.x (its <c>instrument(io, …)</c>): call it in <c>MapParley</c>'s
    /// callback. Authentication is required unless <see cref="AdminUIOptions.AllowAnonymous"/> is set.
    /// </summary>
    public static AdminUI.AdminUI UseAdminUI(this ParleyServer io, Action<AdminUIOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(io);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new AdminUIOptions();
        configure(options);
        AdminUIOptionsValidator.ThrowIfInvalid(options);
        var admin = new AdminUI.AdminUI(io, options);
        // Its stats timer publishes through the adapter every few seconds: it must stop with the host, not outlive it
        // (publishing to a Redis that is gone, for as long as the process lives).
        if (io.Services?.GetService<IHostApplicationLifetime>() is { } lifetime)
        {
            lifetime.ApplicationStopping.Register(static state => ((AdminUI.AdminUI)state!).DisposeAsync().AsTask().GetAwaiter().GetResult(), admin);
        }
        return admin;
    }

    /// <summary>
    /// Serves the official UI (@socket.io/admin-ui's <c>ui/dist</c>, embedded at build time) at <paramref name="path"/>
    /// (<c>/admin</c> redirects to <c>/admin/</c>: the UI's files are relative). The UI connects back to this server's
    /// admin namespace, where the credentials are checked; the files themselves are public, as on admin.socket.io.
    /// </summary>
    public static IEndpointConventionBuilder MapAdminUIAssets(this IEndpointRouteBuilder endpoints, string path = "/admin")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var prefix = path.TrimEnd('/');
        var assembly = typeof(AdminUIExtensions).Assembly;
        // One route: routing matches "/admin" and "/admin/" alike, so the redirect is decided on the raw path.
        return endpoints.MapGet(prefix + "/{**file}", (HttpContext context, string? file) =>
            string.IsNullOrEmpty(file) && context.Request.Path.Value?.EndsWith('/') != true
                ? Results.Redirect(prefix + "/" + context.Request.QueryString)
                : Asset(assembly, string.IsNullOrEmpty(file) ? "index.html" : file));
    }

    private static IResult Asset(Assembly assembly, string file)
    {
        // Resource names are fixed at build time: a path that names none (../ included) is simply not found.
        var stream = assembly.GetManifestResourceStream("Parley.AdminUI.dist/" + file);
        if (stream is null)
        {
            return Results.NotFound();
        }
        if (!s_contentTypes.TryGetContentType(file, out var contentType))
        {
            contentType = "application/octet-stream";
        }
        return Results.Stream(stream, contentType);
    }
}

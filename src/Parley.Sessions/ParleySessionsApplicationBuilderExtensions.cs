using Microsoft.Extensions.DependencyInjection;
using Parley.Sessions;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Adds the session middleware to a pipeline.</summary>
public static class ParleySessionsApplicationBuilderExtensions
{
    /// <summary>Gives every request under the cookie path a session (<c>context.GetSession()</c>).</summary>
    public static IApplicationBuilder UseParleySessions(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.ApplicationServices.GetService<ParleySessionManager>() is null)
        {
            throw new InvalidOperationException("UseParleySessions() needs services.AddParleySessions(...) in ConfigureServices.");
        }
        return app.UseMiddleware<ParleySessionMiddleware>();
    }
}

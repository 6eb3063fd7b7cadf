using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http;

namespace Parley.Sessions;

/// <summary>The session of an HTTP request.</summary>
public static class HttpContextSessionExtensions
{
    /// <summary>
    /// The request's session. Throws when <c>app.UseParleySessions()</c> did not run for this request, or when the
    /// request has no session (store not ready, path outside the cookie path, unset, destroyed).
    /// </summary>
    public static ParleySession GetSession(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var feature = context.Features.Get<IParleySessionFeature>()
            ?? throw new InvalidOperationException("No Parley session: call app.UseParleySessions() before the endpoints that use sessions.");
        return feature.Session is { IsDestroyed: false } session
            ? session
            : throw new InvalidOperationException("This request has no session (the store was not ready, the path is outside the cookie path, or the session was unset or destroyed).");
    }

    /// <summary>The request's session, if it has a live one.</summary>
    public static bool TryGetSession(this HttpContext context, [NotNullWhen(true)] out ParleySession? session)
    {
        ArgumentNullException.ThrowIfNull(context);
        session = context.Features.Get<IParleySessionFeature>()?.Session;
        if (session is { IsDestroyed: true })
        {
            session = null;
        }
        return session is not null;
    }

    /// <summary>
    /// Takes the session off the request (express-session's <c>delete req.session</c>): it is not saved, and with
    /// <see cref="SessionUnset.Destroy"/> it is destroyed in the store when the response completes.
    /// </summary>
    public static void UnsetSession(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Features.Get<IParleySessionFeature>()?.Unset();
    }
}

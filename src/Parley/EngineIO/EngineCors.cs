using Microsoft.AspNetCore.Http;

namespace Parley.EngineIO;

/// <summary>CORS for the polling transport, as the npm <c>cors</c> module answers engine.io's requests.</summary>
internal static class EngineCors
{
    /// <summary>Adds the CORS headers; returns true when the request was a preflight and is answered.</summary>
    public static bool Apply(EngineCorsOptions cors, HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var origin = request.Headers.Origin.ToString();
        var any = cors.Origins.Contains("*");
        string? allowOrigin = null;
        if (any && !cors.AllowCredentials)
        {
            allowOrigin = "*";
        }
        else if (origin.Length > 0 && (any || cors.Origins.Contains(origin, StringComparer.OrdinalIgnoreCase)))
        {
            allowOrigin = origin;
            response.Headers.Vary = "Origin";
        }
        if (allowOrigin is not null)
        {
            response.Headers.AccessControlAllowOrigin = allowOrigin;
            if (cors.AllowCredentials)
            {
                response.Headers.AccessControlAllowCredentials = "true";
            }
        }
        if (!HttpMethods.IsOptions(request.Method))
        {
            return false;
        }
        response.Headers.AccessControlAllowMethods = string.Join(',', cors.Methods);
        var requested = request.Headers.AccessControlRequestHeaders.ToString();
        var allowedHeaders = cors.AllowedHeaders.Count > 0 ? string.Join(',', cors.AllowedHeaders) : requested;
        if (allowedHeaders.Length > 0)
        {
            response.Headers.AccessControlAllowHeaders = allowedHeaders;
        }
        if (cors.MaxAge is { } maxAge)
        {
            response.Headers.AccessControlMaxAge = ((long)maxAge.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        response.StatusCode = StatusCodes.Status204NoContent;
        response.ContentLength = 0;
        return true;
    }
}

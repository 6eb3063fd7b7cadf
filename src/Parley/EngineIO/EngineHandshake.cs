using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features.Authentication;
using Microsoft.Extensions.Primitives;

namespace Parley.EngineIO;

/// <summary>
/// A copy of what the request that opened a connection carried. The request itself is gone once it is answered
/// (ASP.NET Core pools HttpContext), so the parts later layers need are kept here.
/// </summary>
public sealed class EngineHandshake
{
    private ClaimsPrincipal? _user;

    internal EngineHandshake(HttpContext context, DateTimeOffset time)
    {
        var request = context.Request;
        Headers = HandshakeValues.FromHeaders(request.Headers, request.Headers.Count);
        Query = HandshakeValues.FromQuery(request.Query, request.Query.Count);
        RemoteAddress = context.Connection.RemoteIpAddress;
        IsSecure = request.IsHttps;
        Url = string.Concat(request.PathBase.ToString(), request.Path.ToString(), request.QueryString.ToString());
        Time = time;
        // The authentication feature, not HttpContext.User: that getter makes an anonymous principal for every
        // request no authentication ran for, which a connection would then keep for its whole life.
        _user = context.Features.Get<IHttpAuthenticationFeature>()?.User;
    }

    /// <summary>Request headers: lower-case names as Node gives them, looked up case-insensitively.</summary>
    public IReadOnlyDictionary<string, StringValues> Headers { get; }

    /// <summary>Query string parameters.</summary>
    public IReadOnlyDictionary<string, StringValues> Query { get; }

    /// <summary>The client's address.</summary>
    public IPAddress? RemoteAddress { get; }

    /// <summary>Whether the request came over TLS.</summary>
    public bool IsSecure { get; }

    /// <summary>The request's path and query.</summary>
    public string Url { get; }

    /// <summary>When the connection was opened.</summary>
    public DateTimeOffset Time { get; }

    /// <summary>The user ASP.NET Core authentication established for the request (anonymous when none ran).</summary>
    public ClaimsPrincipal User => _user ?? Interlocked.CompareExchange(ref _user, new ClaimsPrincipal(new ClaimsIdentity()), null) ?? _user;

    /// <summary>A header's first value, or null.</summary>
    public string? GetHeader(string name) => Headers.TryGetValue(name, out var v) ? v.ToString() : null;
}

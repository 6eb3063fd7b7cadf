namespace Parley.Sessions;

/// <summary>The request feature through which <see cref="HttpContextSessionExtensions.GetSession"/> finds the session.</summary>
public interface IParleySessionFeature
{
    /// <summary>The request's session; null when the request has none (store not ready, path mismatch, unset).</summary>
    ParleySession? Session { get; }

    /// <summary>Removes the session from the request (express-session's <c>req.session = null</c>); see <see cref="ParleySessionOptions.Unset"/>.</summary>
    void Unset();
}

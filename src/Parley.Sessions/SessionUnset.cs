namespace Parley.Sessions;

/// <summary>What happens to the stored session when a request unsets it (express-session's <c>unset</c>).</summary>
public enum SessionUnset
{
    /// <summary>The stored session is kept; changes made during the request are not saved (<c>'keep'</c>, the default).</summary>
    Keep,

    /// <summary>The stored session is destroyed when the response completes (<c>'destroy'</c>).</summary>
    Destroy,
}

namespace Parley.Sessions.Diagnostics;

/// <summary>The store operations the session layer measures (express-session's store contract).</summary>
internal enum SessionStoreOperation
{
    Get,
    Set,
    Touch,
    Destroy,
}

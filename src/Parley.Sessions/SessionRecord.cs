namespace Parley.Sessions;

/// <summary>
/// What a store is given to keep: the session's JSON exactly as it is to be stored (express-session's
/// <c>JSON.stringify(session)</c>, docs/wire-formats.md §1.3) and the cookie's expiry, from which stores derive their
/// time-to-live the way connect-redis and connect-pg-simple do (null: a browser-session cookie, the store's default TTL).
/// </summary>
/// <param name="Json">The session JSON, <c>cookie</c> first.</param>
/// <param name="Expires">The cookie's <c>expires</c>, or null.</param>
public readonly record struct SessionRecord(string Json, DateTimeOffset? Expires);

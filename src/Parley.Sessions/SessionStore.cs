namespace Parley.Sessions;

/// <summary>
/// Where sessions live: express-session's store contract (expressjs/session README "Session Store
/// Implementation": <c>get</c>, <c>set</c>, <c>touch</c>, <c>destroy</c>, optional <c>clear</c>/<c>length</c>).
/// Stores deal in JSON text, so that the text written is the text another app's store reads; the session layer
/// parses it, and treats a record it cannot parse as missing.
/// </summary>
/// <remarks>
/// A store throws when its backend fails; the middleware then answers 500 and logs, as express-session passes a
/// store error to <c>next(err)</c> (index.js, <c>store.get</c> callback). Every store inherits the contract tests
/// in <c>test/Parley.Sessions.Tests/SessionStoreContractTests.cs</c>.
/// </remarks>
public abstract class SessionStore
{
    /// <summary>
    /// False while the store knows its backend is unreachable: requests then proceed without a session, as
    /// express-session does between a store's <c>disconnect</c> and <c>connect</c> events (index.js
    /// <c>storeReady</c>). True by default.
    /// </summary>
    public virtual bool IsReady => true;

    /// <summary>The session's JSON, or null when there is none or it has expired.</summary>
    public abstract ValueTask<string?> GetAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>Creates or replaces the session; its expiry follows <see cref="SessionRecord.Expires"/>.</summary>
    public abstract ValueTask SetAsync(string sessionId, SessionRecord record, CancellationToken cancellationToken = default);

    /// <summary>
    /// Extends the session's life to <see cref="SessionRecord.Expires"/> without rewriting its data (connect-redis
    /// <c>EXPIRE</c>, connect-pg-simple <c>UPDATE … SET expire</c>). A missing session stays missing.
    /// </summary>
    public abstract ValueTask TouchAsync(string sessionId, SessionRecord record, CancellationToken cancellationToken = default);

    /// <summary>Deletes the session; deleting a missing session is not an error.</summary>
    public abstract ValueTask DestroyAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>True when <see cref="CountAsync"/> and <see cref="ClearAsync"/> are implemented.</summary>
    public virtual bool CanEnumerate => false;

    /// <summary>The number of live sessions (express-session's optional <c>length</c>).</summary>
    public virtual ValueTask<long> CountAsync(CancellationToken cancellationToken = default) =>
        throw new NotSupportedException(GetType().Name + " cannot count its sessions.");

    /// <summary>Deletes every session (express-session's optional <c>clear</c>).</summary>
    public virtual ValueTask ClearAsync(CancellationToken cancellationToken = default) =>
        throw new NotSupportedException(GetType().Name + " cannot clear its sessions.");
}

using System.Diagnostics;

namespace Parley.Sessions.Diagnostics;

/// <summary>
/// The store as the session layer calls it: each operation timed and counted in <see cref="SessionMetrics"/>, then
/// passed to the real store unchanged. Applications still see and resolve their own store; only the session layer's
/// calls go through here.
/// </summary>
internal sealed class MeteredSessionStore(SessionStore inner, SessionMetrics metrics) : SessionStore
{
    public SessionStore Inner => inner;

    public override bool IsReady => inner.IsReady;

    public override bool CanEnumerate => inner.CanEnumerate;

    public override ValueTask<long> CountAsync(CancellationToken cancellationToken = default) => inner.CountAsync(cancellationToken);

    public override ValueTask ClearAsync(CancellationToken cancellationToken = default) => inner.ClearAsync(cancellationToken);

    public override async ValueTask<string?> GetAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var json = await inner.GetAsync(sessionId, cancellationToken).ConfigureAwait(false);
            metrics.Record(SessionStoreOperation.Get, started, found: json is not null);
            return json;
        }
        catch
        {
            metrics.Record(SessionStoreOperation.Get, started, found: null);
            throw;
        }
    }

    public override ValueTask SetAsync(string sessionId, SessionRecord record, CancellationToken cancellationToken = default) =>
        MeasureAsync(SessionStoreOperation.Set, Stopwatch.GetTimestamp(), inner.SetAsync(sessionId, record, cancellationToken));

    public override ValueTask TouchAsync(string sessionId, SessionRecord record, CancellationToken cancellationToken = default) =>
        MeasureAsync(SessionStoreOperation.Touch, Stopwatch.GetTimestamp(), inner.TouchAsync(sessionId, record, cancellationToken));

    public override ValueTask DestroyAsync(string sessionId, CancellationToken cancellationToken = default) =>
        MeasureAsync(SessionStoreOperation.Destroy, Stopwatch.GetTimestamp(), inner.DestroyAsync(sessionId, cancellationToken));

    /// <summary><paramref name="started"/> is evaluated before the store call that made <paramref name="pending"/> (arguments run left to right).</summary>
    private async ValueTask MeasureAsync(SessionStoreOperation operation, long started, ValueTask pending)
    {
        try
        {
            await pending.ConfigureAwait(false);
            metrics.Record(operation, started, found: true);
        }
        catch
        {
            metrics.Record(operation, started, found: null);
            throw;
        }
    }
}

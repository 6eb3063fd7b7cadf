using System.Collections.Concurrent;

namespace Parley.Sessions.Tests;

/// <summary>A real store (the wrapped one) that also records which operations the middleware asked of it.</summary>
public sealed class RecordingStore(SessionStore inner) : SessionStore
{
    public ConcurrentQueue<(string Op, string Id, SessionRecord Record)> Ops { get; } = new();

    public SessionStore Inner => inner;

    /// <summary>Lets a test play a store that announced a disconnect (express-session's storeReady).</summary>
    public bool Ready { get; set; } = true;

    public override bool IsReady => Ready && inner.IsReady;

    public string[] OpNames => Ops.Select(o => o.Op).ToArray();

    public override ValueTask<string?> GetAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        Ops.Enqueue(("get", sessionId, default));
        return inner.GetAsync(sessionId, cancellationToken);
    }

    public override ValueTask SetAsync(string sessionId, SessionRecord record, CancellationToken cancellationToken = default)
    {
        Ops.Enqueue(("set", sessionId, record));
        return inner.SetAsync(sessionId, record, cancellationToken);
    }

    public override ValueTask TouchAsync(string sessionId, SessionRecord record, CancellationToken cancellationToken = default)
    {
        Ops.Enqueue(("touch", sessionId, record));
        return inner.TouchAsync(sessionId, record, cancellationToken);
    }

    public override ValueTask DestroyAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        Ops.Enqueue(("destroy", sessionId, default));
        return inner.DestroyAsync(sessionId, cancellationToken);
    }
}

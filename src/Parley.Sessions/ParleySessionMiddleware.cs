using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace Parley.Sessions;

/// <summary>
/// express-session's middleware (expressjs/session index.js) for ASP.NET Core: reads the signed cookie, loads or
/// generates the session, and at the end of the request saves or touches it and sets the cookie by the rules of
/// docs/wire-formats.md §1.4 (<c>shouldSave</c>, <c>shouldTouch</c>, <c>shouldSetCookie</c>).
/// </summary>
/// <remarks>
/// express-session sets the cookie in <c>onHeaders</c> and holds back the end of the response until the store
/// write completes, so that a client never sees a response before its session is stored. Here the commit runs in
/// <see cref="HttpResponse.OnStarting(Func{Task})"/> (before the headers go) or, when the endpoint wrote nothing,
/// right after it returns; a change made after the response started is saved when the endpoint returns.
/// </remarks>
internal sealed partial class ParleySessionMiddleware
{
    private readonly RequestDelegate _next;
    private readonly ParleySessionManager _manager;
    private readonly ILogger _logger;

    public ParleySessionMiddleware(RequestDelegate next, ParleySessionManager manager, ILogger<ParleySessionMiddleware> logger)
    {
        _next = next;
        _manager = manager;
        _logger = logger;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var options = _manager.Options;
        if (context.GetEndpoint()?.Metadata.GetMetadata<Parley.Hosting.ParleyEndpointMetadata>() is not null)
        {
            // Socket.IO traffic: the handshake loads and verifies the session itself (UseSessions), and loading it
            // again for every long-polling GET and POST would cost a store read each (socket.io's docs wrap
            // express-session in onlyForHandshake for the same reason). Nor should a store outage fail the
            // transport before the handshake can refuse cleanly.
            await _next(context);
            return;
        }
        if (context.Features.Get<IParleySessionFeature>() is not null)
        {
            // "self-awareness": a second UseParleySessions() in the pipeline does nothing.
            await _next(context);
            return;
        }
        if (!_manager.Store.IsReady)
        {
            Log.StoreNotReady(_logger);
            await _next(context);
            return;
        }
        var path = context.Request.PathBase.Add(context.Request.Path).Value ?? "/";
        if (!(path.Length == 0 ? "/" : path).StartsWith(options.Path, StringComparison.Ordinal))
        {
            await _next(context);
            return;
        }

        // HTTP/2 and HTTP/3 may split cookies over several header fields; rejoin them the way Node does ("; ").
        var cookies = context.Request.Headers.Cookie;
        var cookieId = _manager.ReadSessionId(cookies.Count <= 1 ? cookies.ToString() : string.Join("; ", cookies.ToArray()));
        ParleySession session;
        try
        {
            session = cookieId is not null && await _manager.LoadRecordAsync(cookieId, context.RequestAborted) is { } loaded
                ? Inflate(context, cookieId, loaded)
                : _manager.Create(context);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            // express-session passes a store error to next(err): the request fails with 500 (index.js store.get callback).
            Log.StoreLoadFailed(_logger, ex);
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            return;
        }

        var feature = new Feature(session);
        var state = new RequestState(this, context, feature, cookieId);
        context.Features.Set<IParleySessionFeature>(feature);
        context.Response.OnStarting(static s => ((RequestState)s).CommitAsync(), state);
        try
        {
            await _next(context);
        }
        catch (SessionCommitException) when (!context.Response.HasStarted)
        {
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            return;
        }

        if (!context.Response.HasStarted)
        {
            try
            {
                await state.CommitAsync();
            }
            catch (SessionCommitException)
            {
                context.Response.Clear();
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            }
            return;
        }
        await state.SaveLateChangesAsync();
    }

    private ParleySession Inflate(HttpContext context, string id, ParleySessionManager.LoadedRecord loaded)
    {
        var session = new ParleySession(_manager, context, id, loaded.Cookie, loaded.Data, isNew: false);
        if (!_manager.Options.Resave)
        {
            // index.js inflate(): with resave false the loaded session counts as saved.
            session.SavedHash = session.OriginalHash;
        }
        return session;
    }

    private sealed class Feature(ParleySession session) : IParleySessionFeature
    {
        public ParleySession? Session { get; private set; } = session;

        public ParleySession Original { get; } = session;

        public bool WasUnset { get; private set; }

        public void Unset()
        {
            Session = null;
            WasUnset = true;
        }
    }

    private sealed class SessionCommitException(Exception inner) : Exception("The session could not be committed.", inner);

    private sealed class RequestState(ParleySessionMiddleware owner, HttpContext context, Feature feature, string? cookieId)
    {
        private bool _committed;

        public async Task CommitAsync()
        {
            if (_committed)
            {
                return;
            }
            _committed = true;
            var manager = owner._manager;
            var options = manager.Options;
            var session = feature.Session;
            try
            {
                if (session is null)
                {
                    // index.js shouldDestroy(): the session was unset and unset is 'destroy'.
                    if (feature.WasUnset && options.Unset == SessionUnset.Destroy && !feature.Original.IsDestroyed)
                    {
                        await manager.MeteredStore.DestroyAsync(feature.Original.Id, CancellationToken.None);
                        feature.Original.MarkDestroyed();
                        manager.RaiseDestroyed(feature.Original.Id, SessionEndReason.Unset);
                    }
                    return;
                }
                if (session.IsDestroyed)
                {
                    return;
                }
                session.Touch();
                var hash = session.ComputeHash();
                var isNewId = cookieId != session.Id;
                var modified = session.IsModified(hash);
                // index.js shouldSetCookie(), decided before the save changes savedHash.
                var setCookie = isNewId
                    ? options.SaveUninitialized || modified
                    : options.Rolling || session.Cookie.Expires is not null && modified;
                // index.js shouldSave() / shouldTouch().
                var shouldSave = !options.SaveUninitialized && session.SavedHash is null && isNewId
                    ? modified
                    : !session.IsSaved(hash);
                if (shouldSave)
                {
                    await session.SaveAsync(CancellationToken.None);
                }
                else if (!isNewId)
                {
                    await manager.MeteredStore.TouchAsync(session.Id, new SessionRecord(session.ToJson(), session.Cookie.Expires), CancellationToken.None);
                }
                if (setCookie)
                {
                    if (session.Cookie.Secure == true && !manager.IsSecure(context))
                    {
                        // index.js: "only send secure cookies via https".
                        Log.NotSecured(owner._logger);
                    }
                    else
                    {
                        context.Response.Headers.Append(HeaderNames.SetCookie, manager.CreateSetCookieHeader(session));
                    }
                }
            }
            catch (Exception ex) when (ex is not SessionCommitException)
            {
                Log.StoreCommitFailed(owner._logger, ex);
                throw new SessionCommitException(ex);
            }
        }

        public async Task SaveLateChangesAsync()
        {
            var session = feature.Session;
            if (session is null || session.IsDestroyed || !_committed)
            {
                return;
            }
            var hash = session.ComputeHash();
            if (session.IsModified(hash) && !session.IsSaved(hash))
            {
                try
                {
                    await session.SaveAsync(CancellationToken.None);
                }
                // The response is already out: log, do not fail the connection.
                catch (Exception ex)
                {
                    Log.StoreCommitFailed(owner._logger, ex);
                }
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4005, LogLevel.Error, "The session store failed to load a session; the request fails with 500 as express-session's does.")]
        public static partial void StoreLoadFailed(ILogger logger, Exception exception);

        [LoggerMessage(4006, LogLevel.Error, "The session store failed to save, touch or destroy a session.")]
        public static partial void StoreCommitFailed(ILogger logger, Exception exception);

        [LoggerMessage(4007, LogLevel.Debug, "The session store is not ready: the request proceeds without a session.")]
        public static partial void StoreNotReady(ILogger logger);

        [LoggerMessage(4009, LogLevel.Debug, "Secure session cookie not sent over an insecure request.")]
        public static partial void NotSecured(ILogger logger);
    }
}

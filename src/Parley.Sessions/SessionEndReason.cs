namespace Parley.Sessions;

/// <summary>Why a session ended.</summary>
public enum SessionEndReason
{
    /// <summary><see cref="ParleySession.DestroyAsync"/> was called (e.g. logout).</summary>
    Destroyed,

    /// <summary><see cref="ParleySession.RegenerateAsync"/> replaced it with a new id.</summary>
    Regenerated,

    /// <summary>The request unset it and <see cref="ParleySessionOptions.Unset"/> is <see cref="SessionUnset.Destroy"/>.</summary>
    Unset,
}

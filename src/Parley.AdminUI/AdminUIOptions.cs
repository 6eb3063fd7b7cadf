namespace Parley.AdminUI;

/// <summary>
/// Options of the admin UI's server side (<c>io.UseAdminUI(o => …)</c>), named after @socket.io/admin-ui's
/// <c>instrument(io, { … })</c> options (lib/index.ts InstrumentOptions).
/// </summary>
public sealed class AdminUIOptions
{
    /// <summary>The namespace the UI connects to (<c>namespaceName</c>, default <c>/admin</c>).</summary>
    public string NamespaceName { get; set; } = "/admin";

    /// <summary>The user name of basic authentication (<c>auth.username</c>).</summary>
    public string? Username { get; set; }

    /// <summary>
    /// The bcrypt hash of the password (<c>auth.password</c>: <c>$2a$</c>/<c>$2b$</c>/<c>$2y$</c>, as bcryptjs writes
    /// it), never the password itself. Required unless <see cref="AllowAnonymous"/>.
    /// </summary>
    public string? PasswordHash { get; set; }

    /// <summary>
    /// Lets anyone who reaches the namespace in (upstream's <c>auth: false</c>). Off by default: without a user name
    /// and a hash, start-up fails, as upstream does when <c>auth</c> is not given.
    /// </summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>When true the UI can look but not act: no emit, join, leave or disconnect (<c>readonly</c>).</summary>
    public bool ReadOnly { get; set; }

    /// <summary>This node's name in the UI's server list (<c>serverId</c>, default the host name).</summary>
    public string? ServerId { get; set; }

    /// <summary>How often this node sends its <c>server_stats</c> (2 s upstream).</summary>
    public TimeSpan StatsInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How many failed sign-ins one client address may make in <see cref="FailedSignInWindow"/> before its next
    /// attempts are refused unchecked until the window ends (5). Not in upstream, which lets a password be guessed at
    /// the speed of bcrypt.
    /// </summary>
    public int MaxFailedSignIns { get; set; } = 5;

    /// <summary>The window <see cref="MaxFailedSignIns"/> counts in (1 minute).</summary>
    public TimeSpan FailedSignInWindow { get; set; } = TimeSpan.FromMinutes(1);
}

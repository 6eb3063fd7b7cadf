using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Parley.AdminUI;

/// <summary>
/// bcrypt as @socket.io/admin-ui uses it (bcryptjs <c>compare</c> and <c>hashSync</c>): hashes in the modular crypt
/// format <c>$2b$10$</c> + 22 characters of salt + 31 of hash, verified by BCrypt.Net-Next.
/// </summary>
public static partial class AdminUIPassword
{
    [GeneratedRegex("^\\$2[aby]\\$(0[4-9]|[12][0-9]|3[01])\\$[./A-Za-z0-9]{53}$", RegexOptions.CultureInvariant)]
    private static partial Regex BcryptHash();

    /// <summary>Whether <paramref name="hash"/> has the shape of a bcrypt hash (bcryptjs <c>getRounds</c> accepts it).</summary>
    public static bool IsBcryptHash(string? hash) => hash is not null && BcryptHash().IsMatch(hash);

    /// <summary>A bcrypt hash of <paramref name="password"/> (cost 10, bcryptjs's default), for the admin UI's options.</summary>
    public static string Hash(string password, int cost = 10)
    {
        ArgumentNullException.ThrowIfNull(password);
        return BCrypt.Net.BCrypt.HashPassword(password, cost);
    }

    /// <summary>Whether <paramref name="password"/> matches <paramref name="hash"/>; false for a malformed hash or input.</summary>
    public static bool Verify(string? password, string hash)
    {
        if (password is null || !IsBcryptHash(hash) || Encoding.UTF8.GetByteCount(password) > 1024)
        {
            return false;
        }
        try
        {
            return BCrypt.Net.BCrypt.Verify(password, hash);
        }
        catch (BCrypt.Net.SaltParseException)
        {
            return false;
        }
    }

    /// <summary>Compares two user names without leaking where they differ.</summary>
    internal static bool SameUser(string? given, string expected) =>
        given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected));
}

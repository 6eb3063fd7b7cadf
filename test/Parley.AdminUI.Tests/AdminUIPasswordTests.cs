using Microsoft.Extensions.Options;

namespace Parley.AdminUI.Tests;

/// <summary>
/// Hashes written by the npm bcryptjs (2.4.3, the version @socket.io/admin-ui 0.5.1 depends on: <c>hashSync(pw,
/// genSaltSync(cost))</c>) verify here, wrong passwords do not, and what Parley hashes has the same format.
/// </summary>
public sealed class AdminUIPasswordTests
{
    public static TheoryData<string, string> BcryptjsVectors => new()
    {
        { "parley-admin", "$2a$10$/FJCwhXe9xKKTkHnRozuxOamW9rAIfAvy451J1pH0e29lIxmoS7qu" },
        { "pässwörd ✓", "$2a$04$DA3w6k5L3Pl8hyqU2favu.QDk/MCA0L5aQCKvB6weDM1EaO5z9FbW" },
        { "", "$2a$05$cYYEtG5JT72/W1JcZ3jATey1d9SB2LJamqT7hczm45Q.KwhVymsbK" },
        // bcrypt reads 72 bytes of the password: bcryptjs and BCrypt.Net agree on the cut.
        { new string('x', 80), "$2a$04$As..0DK3gc6ThqeQOYM5QuanzYY1053u50Q76.jexygB0Ez08U.0." },
    };

    [Theory]
    [MemberData(nameof(BcryptjsVectors))]
    public void A_bcryptjs_hash_verifies_its_password_and_nothing_else(string password, string hash)
    {
        Assert.True(AdminUIPassword.IsBcryptHash(hash));
        Assert.True(AdminUIPassword.Verify(password, hash));
        Assert.False(AdminUIPassword.Verify(password.Length == 0 ? "x" : "Z" + password[1..], hash));
        Assert.False(AdminUIPassword.Verify(password.Length is > 0 and < 72 ? password[..^1] : " ", hash));
        Assert.False(AdminUIPassword.Verify(null, hash));
    }

    [Fact]
    public void Like_bcryptjs_only_the_first_72_bytes_count()
    {
        const string hash = "$2a$04$As..0DK3gc6ThqeQOYM5QuanzYY1053u50Q76.jexygB0Ez08U.0.";
        Assert.True(AdminUIPassword.Verify(new string('x', 72) + "anything", hash));
        Assert.False(AdminUIPassword.Verify(new string('x', 71), hash));
    }

    [Fact]
    public void The_2b_and_2y_prefixes_of_the_same_hash_verify_too()
    {
        const string hash = "$2a$10$/FJCwhXe9xKKTkHnRozuxOamW9rAIfAvy451J1pH0e29lIxmoS7qu";
        Assert.True(AdminUIPassword.Verify("parley-admin", "$2b$" + hash[4..]));
        Assert.True(AdminUIPassword.Verify("parley-admin", "$2y$" + hash[4..]));
    }

    [Theory]
    [InlineData("parley-admin")]
    [InlineData("$2a$10$short")]
    [InlineData("$2a$03$/FJCwhXe9xKKTkHnRozuxOamW9rAIfAvy451J1pH0e29lIxmoS7qu")]
    [InlineData("$2x$10$/FJCwhXe9xKKTkHnRozuxOamW9rAIfAvy451J1pH0e29lIxmoS7qu")]
    [InlineData("")]
    public void Anything_but_a_bcrypt_hash_is_refused_at_start_and_never_matches(string notAHash)
    {
        Assert.False(AdminUIPassword.IsBcryptHash(notAHash));
        Assert.False(AdminUIPassword.Verify("parley-admin", notAHash));
        var options = new AdminUIOptions { Username = "admin", PasswordHash = notAHash };
        var error = Assert.Throws<OptionsValidationException>(() => AdminUIOptionsValidator.ThrowIfInvalid(options));
        Assert.Contains("AdminUIOptions.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parley_hashes_in_the_format_bcryptjs_reads()
    {
        var hash = AdminUIPassword.Hash("s3cret", cost: 4);
        Assert.Matches("^\\$2[ab]\\$04\\$[./A-Za-z0-9]{53}$", hash);
        Assert.True(AdminUIPassword.Verify("s3cret", hash));
    }

    [Fact]
    public void Without_credentials_the_admin_UI_does_not_start_unless_anonymous_access_is_explicit()
    {
        var error = Assert.Throws<OptionsValidationException>(() => AdminUIOptionsValidator.ThrowIfInvalid(new AdminUIOptions()));
        Assert.Contains("AdminUIOptions.Username", error.Message, StringComparison.Ordinal);
        AdminUIOptionsValidator.ThrowIfInvalid(new AdminUIOptions { AllowAnonymous = true });
    }
}

using System.Text;
using System.Text.RegularExpressions;
using Isopoh.Cryptography.Argon2;

namespace School.Tests;

public sealed partial class PasswordHasherTests
{
    [Fact]
    public void A_hash_is_an_argon2id_PHC_string_that_records_the_OWASP_parameters()
    {
        var phc = new PasswordHasher(Argon2Parameters.Owasp).Hash("correct horse battery staple");

        // A 16-byte salt and a 32-byte hash, in unpadded base64.
        Assert.Matches(PhcPattern(), phc);
        Assert.StartsWith("$argon2id$v=19$m=19456,t=2,p=1$", phc);
    }

    [Theory]
    [InlineData("correct horse battery staple")]
    [InlineData("Passwort-Größe")]
    [InlineData("")]
    public void The_password_verifies_and_another_does_not(string password)
    {
        var phc = new PasswordHasher(Argon2Parameters.Test).Hash(password);

        Assert.True(PasswordHasher.Verify(phc, password));
        Assert.False(PasswordHasher.Verify(phc, password + "x"));
    }

    [Fact]
    public void The_same_password_hashes_differently_each_time()
    {
        var hasher = new PasswordHasher(Argon2Parameters.Test);

        Assert.NotEqual(hasher.Hash("letmein"), hasher.Hash("letmein"));
    }

    [Fact]
    public void A_hash_verifies_whatever_profile_made_it_because_it_records_its_parameters()
    {
        var phc = new PasswordHasher(Argon2Parameters.Test).Hash("letmein");

        Assert.StartsWith("$argon2id$v=19$m=64,t=1,p=1$", phc);
        Assert.True(PasswordHasher.Verify(phc, "letmein"));
    }

    [Fact]
    public void Only_argon2id_is_accepted()
    {
        var argon2i = Argon2.Hash(new Argon2Config
        {
            Type = Argon2Type.DataIndependentAddressing, MemoryCost = 64, TimeCost = 1, Lanes = 1, Threads = 1,
            Password = Encoding.UTF8.GetBytes("letmein"), Salt = new byte[16],
        });

        Assert.StartsWith("$argon2i$", argon2i);
        Assert.False(PasswordHasher.Verify(argon2i, "letmein"));
        Assert.False(PasswordHasher.Verify("$argon2id$v=19$not-a-hash", "letmein"));
        Assert.False(PasswordHasher.Verify("letmein", "letmein"));
    }

    [Theory]
    [InlineData(null, "owasp")]
    [InlineData("", "owasp")]
    [InlineData("owasp", "owasp")]
    [InlineData(" TEST ", "test")]
    public void The_profile_is_chosen_by_name_and_real_passwords_are_the_default(string? name, string expected) =>
        Assert.Equal(expected, Argon2Parameters.FromProfile(name).Profile);

    [Fact]
    public void An_unknown_profile_is_refused_rather_than_guessed()
    {
        var error = Assert.Throws<ArgumentException>(() => Argon2Parameters.FromProfile("fast"));

        Assert.Contains(Argon2Parameters.ProfileVariable, error.Message);
    }

    internal static Regex PhcPattern() => Phc();

    [GeneratedRegex(@"^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$")]
    private static partial Regex Phc();
}

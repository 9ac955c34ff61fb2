using System.Security.Cryptography;
using System.Text;
using Isopoh.Cryptography.Argon2;
using Isopoh.Cryptography.SecureArray;

namespace School;

/// Argon2id password hashes as PHC strings ($argon2id$v=19$m=19456,t=2,p=1$salt$hash), which carry their
/// parameters: hashes made under any profile verify, and the cost can be raised later without a migration.
public sealed class PasswordHasher(Argon2Parameters parameters)
{
    const string Prefix = "$argon2id$";
    const int SaltBytes = 16;
    const int HashBytes = 32;

    // Argon2's working memory is wiped after each hash but not locked into RAM, as in the reference implementation:
    // locking made the test profile ten times slower (system calls), for no gain at the OWASP cost.
    static readonly SecureArrayCall WipeWithoutLocking =
        new(SecureArray.DefaultCall.ZeroMemory, (_, _) => null, (_, _) => { }, SecureArray.DefaultCall.Os);

    public Argon2Parameters Parameters => parameters;

    public string Hash(string password) => Argon2.Hash(new Argon2Config
    {
        Type = Argon2Type.HybridAddressing,
        Version = Argon2Version.Nineteen,
        MemoryCost = parameters.MemoryKiB,
        TimeCost = parameters.Iterations,
        Lanes = parameters.Parallelism,
        // Callers hash many passwords at once, one per core; more threads per hash would only contend.
        Threads = 1,
        Password = Encoding.UTF8.GetBytes(password),
        Salt = RandomNumberGenerator.GetBytes(SaltBytes),
        HashLength = HashBytes,
        SecureArrayCall = WipeWithoutLocking,
    });

    /// Only argon2id counts: a stored argon2i or argon2d string would be a weaker hash that nobody meant to accept.
    public static bool Verify(string phc, string password) =>
        phc.StartsWith(Prefix, StringComparison.Ordinal) && Argon2.Verify(phc, password, 1, WipeWithoutLocking);
}

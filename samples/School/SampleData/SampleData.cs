using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;

namespace School;

/// The school platform's data as production holds it at v0.3, made up but deterministic: the same scale
/// and seed give the same rows, byte for byte, so tests and benchmarks can compare runs.
public static class SampleData
{
    /// Fills an empty v0.3 schema in one transaction, then vacuums and analyzes it as a long-lived database would be.
    public static Task<GenerationReport> GenerateAsync(string connectionString, double scale, int seed, CancellationToken cancellationToken = default) =>
        new SampleDataGenerator(connectionString, SampleSize.For(scale), seed).RunAsync(cancellationToken);

    /// Logs in as up to sampleSize users of an upgraded (v0.4) sample database with the plaintext the generator
    /// gave them; the seed must be the one the sample was generated with.
    public static Task<LoginCheck> CheckLoginsAsync(string connectionString, int seed, int sampleSize, CancellationToken cancellationToken = default) =>
        LoginCheck.RunAsync(connectionString, seed, sampleSize, cancellationToken);

    /// The plaintext that the generator stored for a user: derived, not stored elsewhere, so that once v0.4 has
    /// hashed the passwords a test can still log in as anyone.
    public static string PlaintextPassword(int legacyId, int seed)
    {
        Span<byte> key = stackalloc byte[4];
        Span<byte> message = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(key, seed);
        BinaryPrimitives.WriteInt32LittleEndian(message, legacyId);
        Span<byte> digest = stackalloc byte[32];
        HMACSHA256.HashData(key, message, digest);
        // About 1 user in 85 picks a common password: equal passwords must still get different hashes.
        return digest[0] < 3
            ? CommonPasswords[digest[1] % CommonPasswords.Length]
            : Base64Url.EncodeToString(digest[1..13]);
    }

    // Non-ASCII ones prove the hash covers the UTF-8 bytes the user typed.
    static readonly string[] CommonPasswords = ["password123", "Summer2025!", "letmein", "qwerty123", "Passwort-Größe", "été-2024"];
}

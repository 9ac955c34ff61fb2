namespace School;

/// The Argon2id cost of new hashes. Verifying never needs it: every PHC string records its own.
public sealed record Argon2Parameters(string Profile, int MemoryKiB, int Iterations, int Parallelism)
{
    public const string ProfileVariable = "SCHOOL_ARGON2_PROFILE";

    /// OWASP's minimum for Argon2id: m = 19 MiB, t = 2, p = 1.
    public static Argon2Parameters Owasp { get; } = new("owasp", 19456, 2, 1);

    /// About a thousand times cheaper, so that tests hash thousands of passwords in seconds. Never for real passwords.
    public static Argon2Parameters Test { get; } = new("test", 64, 1, 1);

    /// Real passwords are the default: only an explicit SCHOOL_ARGON2_PROFILE=test lowers the cost.
    public static Argon2Parameters FromEnvironment() => FromProfile(Environment.GetEnvironmentVariable(ProfileVariable));

    public static Argon2Parameters FromProfile(string? profile) => profile?.Trim().ToLowerInvariant() switch
    {
        null or "" or "owasp" => Owasp,
        "test" => Test,
        // A typo must not silently pick a cost: production hashes would be too weak, or tests too slow.
        _ => throw new ArgumentException(
            $"{ProfileVariable}='{profile}' is not an Argon2 profile: use 'owasp' (the default, for real passwords) or 'test' (a tiny cost for tests only)."),
    };

    public override string ToString() => $"{Profile} (argon2id m={MemoryKiB} KiB, t={Iterations}, p={Parallelism})";
}

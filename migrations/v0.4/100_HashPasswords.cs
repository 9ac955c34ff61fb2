using PgDeploy.Migrations.PostProcessing;
using School;

namespace Migrations.V0_4;

/// Argon2id has to be computed in C#: PostgreSQL has no memory-hard password hash. Each core hashes one
/// password at a time (lanes and threads 1), which is what makes the cost per user fixed and predictable:
/// see migrations/README.md for the rate, and SCHOOL_ARGON2_PROFILE for the cheap test profile.
/// Precompute hashes every password before the fence, on the v0.3 schema, while the application runs; inside the
/// fence only the passwords changed since, and new users, are hashed. The user's integer id names the row in both
/// schemas: it is `id` before the upgrade and `legacy_id` after 050.
public sealed class HashPasswords : PostProcessStep
{
    public override string Description => "Hash every plaintext password with Argon2id, one password per core";

    public override async Task ExecuteAsync(StepContext context)
    {
        var hasher = new PasswordHasher(Argon2Parameters.FromEnvironment());
        context.Log.Information("  Argon2 profile: {Profile}", hasher.Parameters);
        await context.TransformAsync(new BatchTransform<UserPassword, (int, string)>
        {
            Name = "Hash passwords",
            Source = "SELECT legacy_id, password FROM users",
            SourceBeforeUpgrade = "SELECT id AS legacy_id, password FROM users",
            Compute = user => (user.LegacyId, hasher.Hash(user.Password)),
            Table = "users",
            KeyColumn = "legacy_id",
            Columns = ["password_hash"],
            Identity = hasher.Parameters.ToString(),
        });
    }

    sealed record UserPassword(int LegacyId, string Password);
}

using PgDeploy.Migrations.PostProcessing;
using School;

namespace Migrations.V0_4;

/// Argon2id has to be computed in C#: PostgreSQL has no memory-hard password hash. Each core hashes one
/// password at a time (lanes and threads 1), which is what makes the cost per user fixed and predictable:
/// see migrations/README.md for the rate, and SCHOOL_ARGON2_PROFILE for the cheap test profile.
public sealed class HashPasswords : PostProcessStep
{
    public override string Description => "Hash every plaintext password with Argon2id, one password per core";

    public override async Task ExecuteAsync(StepContext context)
    {
        var hasher = new PasswordHasher(Argon2Parameters.FromEnvironment());
        context.Log.Information("  Argon2 profile: {Profile}", hasher.Parameters);
        await context.TransformAsync(new BatchTransform<UserPassword, (Guid, string)>
        {
            Name = "Hash passwords",
            Source = "SELECT id, password FROM users",
            Compute = user => (user.Id, hasher.Hash(user.Password)),
            Table = "users",
            KeyColumn = "id",
            Columns = ["password_hash"],
        });
    }

    sealed record UserPassword(Guid Id, string Password);
}

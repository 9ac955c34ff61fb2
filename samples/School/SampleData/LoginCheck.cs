using Npgsql;

namespace School;

/// Logging in as sample users after the upgrade: the proof that hashing kept every password.
public sealed record LoginCheck(int Checked, IReadOnlyList<int> FailedLegacyIds)
{
    public bool Passed => Checked > 0 && FailedLegacyIds.Count == 0;

    /// A sample spread over the whole id range, the same every time, verified on all cores: at the OWASP
    /// cost one verification takes tens of milliseconds, so checking everyone at scale 1 would take an hour.
    internal static async Task<LoginCheck> RunAsync(string connectionString, int seed, int sampleSize, CancellationToken cancellationToken)
    {
        var users = new List<(int LegacyId, string PasswordHash)>();
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand(
                "SELECT legacy_id, password_hash FROM users ORDER BY hashint4(legacy_id), legacy_id LIMIT @sample", connection)
            {
                Parameters = { new("sample", sampleSize) },
            };
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                users.Add((reader.GetInt32(0), reader.GetString(1)));
        }

        var failed = users.AsParallel().WithCancellation(cancellationToken)
            .Where(user => !PasswordHasher.Verify(user.PasswordHash, SampleData.PlaintextPassword(user.LegacyId, seed)))
            .Select(user => user.LegacyId)
            .Order()
            .ToList();
        return new LoginCheck(users.Count, failed);
    }
}

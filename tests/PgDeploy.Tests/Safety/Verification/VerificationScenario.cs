using Dapper;
using Npgsql;
using PgDeploy.Safety.Verification;
using PgDeploy.Tests.Fixtures;

namespace PgDeploy.Tests.Safety.Verification;

/// A fresh database with an open transaction, as the upgrade leaves it before Verify, and a verify folder.
/// The schema is created inside that transaction, so the verifier must see uncommitted work, as it will.
sealed class VerificationScenario : IAsyncDisposable
{
    NpgsqlConnection connection = null!;

    public NpgsqlTransaction Transaction { get; private set; } = null!;
    public NpgsqlConnection Connection => connection;
    public string ConnectionString { get; private set; } = "";
    public string VerifyDirectory { get; } = Directory.CreateTempSubdirectory("pgdeploy-verify-").FullName;

    /// <param name="beforeTransaction">Runs first, on the same connection, e.g. what cannot run in a transaction (CREATE INDEX CONCURRENTLY).</param>
    public static async Task<VerificationScenario> CreateAsync(PostgresFixture postgres, string schemaSql, Func<NpgsqlConnection, Task>? beforeTransaction = null)
    {
        var scenario = new VerificationScenario { ConnectionString = await postgres.CreateDatabaseAsync() };
        scenario.connection = new NpgsqlConnection(scenario.ConnectionString);
        await scenario.connection.OpenAsync();
        if (beforeTransaction is not null)
            await beforeTransaction(scenario.connection);
        scenario.Transaction = await scenario.connection.BeginTransactionAsync();
        await scenario.connection.ExecuteAsync(schemaSql, transaction: scenario.Transaction);
        return scenario;
    }

    public VerificationScenario WithFile(string name, string content)
    {
        File.WriteAllText(Path.Combine(VerifyDirectory, name), content);
        return this;
    }

    public Task<IntegrityReport> VerifyAsync(IReadOnlyDictionary<string, long>? backupCounts = null) =>
        new IntegrityVerifier(connection, Transaction).VerifyAsync(VerifyDirectory, backupCounts ?? new Dictionary<string, long>(), CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await connection.DisposeAsync();
        Directory.Delete(VerifyDirectory, recursive: true);
    }
}

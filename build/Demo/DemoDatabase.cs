using System.Security.Cryptography;
using Dapper;
using Npgsql;
using PgDeploy.Migrations;
using PgDeploy.Postgres;
using School;
using Serilog;

/// The demo's starting point: the local school database as production holds it today (v0.3, with sample
/// data), the application's own role, and the settings the sample API and the smoke checks read.
sealed class DemoDatabase(LocalCluster cluster, string database, MigrationCatalog catalog)
{
    public const string AppRole = "school_app";
    public const int Seed = 20261124;

    public async Task<IReadOnlyDictionary<string, string>> CreateAsync(double scale, CancellationToken cancellationToken)
    {
        var server = cluster.ConnectionString();
        await DropLeftoversAsync(server, cancellationToken);
        await DatabaseAdmin.CreateDatabaseAsync(server, database, cancellationToken: cancellationToken);
        var connectionString = cluster.ConnectionString(database);

        await using (var run = new UpgradeRun(connectionString, catalog, new AppVersion(0, 3), new MigrationSettings(), "demo-setup"))
            await run.ApplyAsync(UpgradePhase.Migrate, commit: true, cancellationToken);
        var generated = await SampleData.GenerateAsync(connectionString, scale, Seed, cancellationToken);
        Log.Information("Sample data at scale {Scale}: {Report}", scale, generated);

        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        await GrantApplicationRoleAsync(connectionString, password, cancellationToken);
        return await SettingsAsync(connectionString, password, cancellationToken);
    }

    /// A demo run starts from scratch: the previous one's database and the forensic copies its rollbacks kept.
    async Task DropLeftoversAsync(string server, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync(cancellationToken);
        var names = await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT datname FROM pg_database WHERE datname = @database OR datname LIKE @database || '\\_\\_%'", new { database }, cancellationToken: cancellationToken));
        foreach (var name in names)
            await DatabaseAdmin.DropDatabaseAsync(server, name, cancellationToken);
    }

    /// Default privileges cover the tables the upgrade creates or rebuilds, as a DBA would set them up once.
    async Task GrantApplicationRoleAsync(string connectionString, string password, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        var exists = await connection.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = @AppRole)", new { AppRole });
        await connection.ExecuteAsync($"{(exists ? "ALTER" : "CREATE")} ROLE {AppRole} LOGIN PASSWORD '{password}'");
        await connection.ExecuteAsync($"""
            GRANT CONNECT ON DATABASE {DatabaseAdmin.QuoteIdentifier(database)} TO {AppRole};
            GRANT USAGE ON SCHEMA public, pgdeploy TO {AppRole};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {AppRole};
            GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {AppRole};
            GRANT SELECT ON pgdeploy.history TO {AppRole};
            ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {AppRole};
            ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {AppRole};
            """);
    }

    /// What the sample API's start hook and the smoke checks need: the application's connection string and a
    /// teacher's and an admin's sign-in (the sample's passwords are derived from the seed, never stored).
    async Task<IReadOnlyDictionary<string, string>> SettingsAsync(string connectionString, string password, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        var people = (await connection.QueryAsync<(string Role, int Id, string Email)>(new CommandDefinition(
            "SELECT DISTINCT ON (role) role, id, email FROM users WHERE role IN ('teacher', 'admin') ORDER BY role, id", cancellationToken: cancellationToken)))
            .ToDictionary(person => person.Role);
        var application = new NpgsqlConnectionStringBuilder(connectionString) { Username = AppRole, Password = password };
        return new Dictionary<string, string>
        {
            ["SCHOOL_DB"] = application.ConnectionString,
            ["SCHOOL_DEMO_TEACHER_EMAIL"] = people["teacher"].Email,
            ["SCHOOL_DEMO_TEACHER_PASSWORD"] = SampleData.PlaintextPassword(people["teacher"].Id, Seed),
            ["SCHOOL_DEMO_ADMIN_EMAIL"] = people["admin"].Email,
            ["SCHOOL_DEMO_ADMIN_PASSWORD"] = SampleData.PlaintextPassword(people["admin"].Id, Seed),
        };
    }
}

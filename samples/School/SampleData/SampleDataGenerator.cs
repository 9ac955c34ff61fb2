using System.Diagnostics;
using System.Globalization;
using Npgsql;
using NpgsqlTypes;

namespace School;

/// Writes the sample into an empty v0.3 schema over one connection, because the pseudo-random draw function
/// lives in the session's pg_temp schema.
sealed class SampleDataGenerator(string connectionString, SampleSize size, int seed)
{
    static readonly string[] Tables = ["schools", "terms", "users", "classes", "enrollments", "activity_logs"];
    static readonly DateTime FirstLog = new(2024, 8, 26, 7, 0, 0, DateTimeKind.Utc);
    static readonly DateTime DataToday = new(2026, 2, 1, 0, 0, 0, DateTimeKind.Utc);

    readonly List<GenerationStep> steps = [];

    public async Task<GenerationReport> RunAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { CommandTimeout = 0 }.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await RefuseUnlessEmptyV03Async(connection, cancellationToken);

        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            // Dates become timestamps in the session's time zone: UTC makes the rows the same on every machine.
            await ExecuteAsync(connection, "SET LOCAL TimeZone = 'UTC'", cancellationToken);
            await ExecuteAsync(connection, "SET LOCAL maintenance_work_mem = '256MB'", cancellationToken);
            await ExecuteAsync(connection, DrawFunction, cancellationToken);
            await ExecuteScriptAsync(connection, "defer_constraints", cancellationToken);
            var people = new SamplePeople(size, seed);
            var schools = people.Schools();
            await TimedAsync("schools", () => CopySchoolsAsync(connection, schools, cancellationToken));
            await TimedAsync("people", () => CopyPeopleAsync(connection, people.Users(schools), cancellationToken));
            await TimedAsync("users", () => ExecuteScriptAsync(connection, "users", cancellationToken));
            await TimedAsync("terms", () => ExecuteScriptAsync(connection, "terms", cancellationToken));
            await TimedAsync("classes", () => ExecuteScriptAsync(connection, "classes", cancellationToken));
            await TimedAsync("enrollments", () => ExecuteScriptAsync(connection, "enrollments", cancellationToken));
            await TimedAsync("activity_logs", () => ExecuteScriptAsync(connection, "activity_logs", cancellationToken));
            await TimedAsync("indexes and foreign keys", () => ExecuteScriptAsync(connection, "restore_constraints", cancellationToken));
            await ExecuteScriptAsync(connection, "sequences", cancellationToken);
            await TimedAsync("commit", async () => { await transaction.CommitAsync(cancellationToken); return 0; });
        }

        // Hint bits, the visibility map and statistics, as in a database that has been in use: otherwise the
        // first upgrade run would pay for them and its timing would mislead.
        await TimedAsync("vacuum analyze", async () =>
        {
            await ExecuteAsync(connection, $"VACUUM (FREEZE, ANALYZE) {string.Join(", ", Tables)}", cancellationToken);
            return 0;
        });
        return new GenerationReport(size, seed, steps);
    }

    /// hashint8extended is the hash that hash partitioning relies on, so PostgreSQL keeps it stable across
    /// versions, and it works on integers, not bytes, so it is the same on every architecture; md5-based
    /// draws would be as stable but ten times slower. Streams below 1000 keep each column's draws apart.
    string DrawFunction =>
        "CREATE FUNCTION pg_temp.draw(key bigint, stream integer) RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS " +
        $"$$ SELECT (hashint8extended(key, {seed.ToString(CultureInfo.InvariantCulture)}::bigint * 1000 + stream) & 4294967295)::double precision / 4294967296 $$";

    async Task RefuseUnlessEmptyV03Async(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        foreach (var table in Tables)
        {
            await using var command = new NpgsqlCommand($"SELECT to_regclass('public.{table}') IS NOT NULL", connection);
            if (!(bool)(await command.ExecuteScalarAsync(cancellationToken))!)
                throw new InvalidOperationException(
                    $"Database '{connection.Database}' has no table {table}: the sample data fills the v0.3 schema, so create it first (./build.sh Migrate --version 0.3).");
        }

        await using var count = new NpgsqlCommand($"SELECT {string.Join(" + ", Tables.Select(table => $"(SELECT count(*) FROM (SELECT FROM {table} LIMIT 1) AS t)"))}", connection);
        if ((long)(await count.ExecuteScalarAsync(cancellationToken))! > 0)
            throw new InvalidOperationException(
                $"Database '{connection.Database}' already has rows in the school tables; the sample data goes only into an empty v0.3 schema. Use a new database.");
    }

    static async Task<long> CopySchoolsAsync(NpgsqlConnection connection, IReadOnlyList<SampleSchool> schools, CancellationToken cancellationToken)
    {
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY schools (id, name, email_domain, created_at) FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var school in schools)
        {
            await writer.StartRowAsync(cancellationToken);
            await writer.WriteAsync(school.Id, NpgsqlDbType.Integer, cancellationToken);
            await writer.WriteAsync(school.Name, NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(school.EmailDomain, NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(school.CreatedAt, NpgsqlDbType.TimestampTz, cancellationToken);
        }
        return (long)await writer.CompleteAsync(cancellationToken);
    }

    /// The people go to a staging table first: users.sql makes their e-mail addresses, because only PostgreSQL can
    /// fold accents here (this process runs with invariant globalization, where string.Normalize does nothing).
    static async Task<long> CopyPeopleAsync(NpgsqlConnection connection, IEnumerable<SampleUser> users, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection,
            "CREATE TEMP TABLE people (id integer, school_id integer, role text, first_name text, last_name text, password text, created_at timestamptz) ON COMMIT DROP",
            cancellationToken);
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY people (id, school_id, role, first_name, last_name, password, created_at) FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var user in users)
        {
            await writer.StartRowAsync(cancellationToken);
            await writer.WriteAsync(user.Id, NpgsqlDbType.Integer, cancellationToken);
            await writer.WriteAsync(user.SchoolId, NpgsqlDbType.Integer, cancellationToken);
            await writer.WriteAsync(user.Role, NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(user.FirstName, NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(user.LastName, NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(user.Password, NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(user.CreatedAt, NpgsqlDbType.TimestampTz, cancellationToken);
        }
        return (long)await writer.CompleteAsync(cancellationToken);
    }

    async Task<long> ExecuteScriptAsync(NpgsqlConnection connection, string name, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(Script(name), connection)
        {
            Parameters =
            {
                new("tables", Tables),
                new("schools", size.Schools),
                new("users", size.Users),
                new("classes", size.Classes),
                new("per_student", (double)size.Enrollments / Math.Max(size.Students, 1)),
                new("activity_logs", size.ActivityLogs),
                new("seconds_apart", (DataToday - FirstLog).TotalSeconds / Math.Max(size.ActivityLogs, 1)),
            },
        };
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    static string Script(string name)
    {
        using var stream = typeof(SampleDataGenerator).Assembly.GetManifestResourceStream($"School.SampleData.{name}.sql")
                           ?? throw new InvalidOperationException($"The embedded script {name}.sql is missing from the School assembly.");
        return new StreamReader(stream).ReadToEnd();
    }

    static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    async Task TimedAsync(string name, Func<Task<long>> step)
    {
        var clock = Stopwatch.StartNew();
        var rows = await step();
        steps.Add(new GenerationStep(name, rows, clock.Elapsed));
    }
}

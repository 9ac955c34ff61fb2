using Dapper;
using Npgsql;
using School;

namespace SchoolApi.Queries;

/// The v0.4 schema: UUID user ids (the integer lives on as legacy_id), display_name and username, Argon2id
/// password hashes, and the new assignments table. Class ids are still integers.
public sealed class V04Queries(NpgsqlDataSource database) : ISchoolQueries
{
    const string ClassColumns = """
        SELECT c.id, c.name, c.subject, c.room, t.name AS term,
               c.teacher_id AS teacherid, u.display_name AS teachername,
               (SELECT count(*) FROM enrollments e WHERE e.class_id = c.id) AS enrollmentcount
        FROM classes c
        JOIN terms t ON t.id = c.term_id
        JOIN users u ON u.id = c.teacher_id
        """;

    const string AssignmentColumns = """
        a.id, a.class_id AS classid, a.title, a.description, a.due_at AS dueat, a.max_points AS maxpoints,
        a.created_by AS createdbyid, u.display_name AS createdbyname, a.created_at AS createdat
        """;

    // Verified when no user has the email, so that an unknown email costs as much as a wrong password:
    // the response time must not tell which emails have accounts.
    static readonly Lazy<string> NobodysHash = new(() => new PasswordHasher(Argon2Parameters.Owasp).Hash(Guid.NewGuid().ToString()));

    public async Task<LoginResult?> LoginAsync(string login, string password, CancellationToken cancellationToken)
    {
        UserRow? user;
        await using (var connection = await database.OpenConnectionAsync(cancellationToken))
        {
            // A username never holds an '@' (users_username_check), so the two cannot be confused.
            user = await connection.QuerySingleOrDefaultAsync<UserRow>(new CommandDefinition(
                "SELECT id, role, username, display_name AS displayname, password_hash AS passwordhash FROM users WHERE email = lower(@login) OR username = lower(@login)",
                new { login }, cancellationToken: cancellationToken));
        }

        // Argon2 costs tens of milliseconds of CPU: the connection goes back to the pool first.
        var verified = PasswordHasher.Verify(user?.PasswordHash ?? NobodysHash.Value, password);
        return user is not null && verified ? new LoginResult(user.Id, user.Role, user.DisplayName, user.Username, user.DisplayName) : null;
    }

    public async Task<IReadOnlyList<ClassSummary>> ListClassesAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<ClassRow<Guid>>(new CommandDefinition(
            $"{ClassColumns} ORDER BY c.id LIMIT @limit", new { limit }, cancellationToken: cancellationToken));
        return rows.Select(row => row.ToSummary()).ToList();
    }

    public async Task<ClassDetails?> GetClassAsync(int classId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<ClassRow<Guid>>(new CommandDefinition(
            $"{ClassColumns} WHERE c.id = @classId", new { classId }, cancellationToken: cancellationToken));
        if (row is null)
            return null;
        var students = await connection.QueryAsync<PersonRow<Guid>>(new CommandDefinition(
            """
            SELECT s.id, s.display_name AS name
            FROM enrollments e JOIN users s ON s.id = e.student_id
            WHERE e.class_id = @classId
            ORDER BY s.last_name, s.first_name, s.id
            LIMIT 50
            """, new { classId }, cancellationToken: cancellationToken));
        return row.ToDetails(students);
    }

    public async Task<IReadOnlyList<Assignment>?> ListAssignmentsAsync(int classId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT EXISTS (SELECT FROM classes WHERE id = @classId)", new { classId }, cancellationToken: cancellationToken)))
            return null;
        var rows = await connection.QueryAsync<AssignmentRow>(new CommandDefinition(
            $"""
            SELECT {AssignmentColumns}
            FROM assignments a JOIN users u ON u.id = a.created_by
            WHERE a.class_id = @classId
            ORDER BY a.due_at, a.created_at, a.id
            """, new { classId }, cancellationToken: cancellationToken));
        return rows.Select(row => row.ToAssignment()).ToList();
    }

    public async Task<Assignment?> CreateAssignmentAsync(int classId, string title, DateTimeOffset dueAt, CancellationToken cancellationToken)
    {
        // The API has no sessions yet, so the class's teacher sets every assignment. No class, no row: null.
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<AssignmentRow>(new CommandDefinition(
            $"""
            WITH a AS (
                INSERT INTO assignments (class_id, created_by, title, due_at)
                SELECT c.id, c.teacher_id, @title, @dueAt FROM classes c WHERE c.id = @classId
                RETURNING *
            )
            SELECT {AssignmentColumns} FROM a JOIN users u ON u.id = a.created_by
            """, new { classId, title, dueAt = dueAt.UtcDateTime }, cancellationToken: cancellationToken));
        return row?.ToAssignment();
    }

    sealed record UserRow(Guid Id, string Role, string Username, string DisplayName, string PasswordHash);

    sealed record AssignmentRow(
        Guid Id, int ClassId, string Title, string? Description, DateTime DueAt, decimal MaxPoints, Guid CreatedById, string CreatedByName, DateTime CreatedAt)
    {
        public Assignment ToAssignment() => new(Id, ClassId, Title, Description, DueAt, MaxPoints, new Person(CreatedById, CreatedByName), CreatedAt);
    }
}

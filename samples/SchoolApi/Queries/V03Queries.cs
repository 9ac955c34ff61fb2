using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;

namespace SchoolApi.Queries;

/// The v0.3 schema: serial integer user ids, names in first_name and last_name, the password in plain text
/// (the flaw v0.4 fixes), and no assignments.
public sealed class V03Queries(NpgsqlDataSource database) : ISchoolQueries
{
    const string ClassColumns = """
        SELECT c.id, c.name, c.subject, c.room, t.name AS term,
               c.teacher_id AS teacherid, u.first_name || ' ' || u.last_name AS teachername,
               (SELECT count(*) FROM enrollments e WHERE e.class_id = c.id) AS enrollmentcount
        FROM classes c
        JOIN terms t ON t.id = c.term_id
        JOIN users u ON u.id = c.teacher_id
        """;

    public async Task<LoginResult?> LoginAsync(string login, string password, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        var user = await connection.QuerySingleOrDefaultAsync<UserRow>(new CommandDefinition(
            "SELECT id, role, first_name || ' ' || last_name AS name, password FROM users WHERE email = lower(@login)",
            new { login }, cancellationToken: cancellationToken));
        return user is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(user.Password), Encoding.UTF8.GetBytes(password))
            ? new LoginResult(user.Id, user.Role, user.Name)
            : null;
    }

    public async Task<IReadOnlyList<ClassSummary>> ListClassesAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<ClassRow<int>>(new CommandDefinition(
            $"{ClassColumns} ORDER BY c.id LIMIT @limit", new { limit }, cancellationToken: cancellationToken));
        return rows.Select(row => row.ToSummary()).ToList();
    }

    public async Task<ClassDetails?> GetClassAsync(int classId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<ClassRow<int>>(new CommandDefinition(
            $"{ClassColumns} WHERE c.id = @classId", new { classId }, cancellationToken: cancellationToken));
        if (row is null)
            return null;
        var students = await connection.QueryAsync<PersonRow<int>>(new CommandDefinition(
            """
            SELECT s.id, s.first_name || ' ' || s.last_name AS name
            FROM enrollments e JOIN users s ON s.id = e.student_id
            WHERE e.class_id = @classId
            ORDER BY s.last_name, s.first_name, s.id
            LIMIT 50
            """, new { classId }, cancellationToken: cancellationToken));
        return row.ToDetails(students);
    }

    public Task<IReadOnlyList<Assignment>?> ListAssignmentsAsync(int classId, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<Assignment>?>(null);

    public Task<Assignment?> CreateAssignmentAsync(int classId, string title, DateTimeOffset dueAt, CancellationToken cancellationToken) =>
        Task.FromResult<Assignment?>(null);

    sealed record UserRow(int Id, string Role, string Name, string Password);
}

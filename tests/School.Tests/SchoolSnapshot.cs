using Dapper;
using Npgsql;

namespace School.Tests;

/// What an upgrade must keep, written with the users' integer ids: users.id at v0.3, users.legacy_id at v0.4.
/// Equal snapshots before and after prove that every reference was remapped to the same user.
sealed record SchoolSnapshot(
    IReadOnlyDictionary<string, long> Counts, string[] Users, string[] Classes, string[] Enrollments, string[] ActivityLogs)
{
    public static readonly string[] Tables = ["schools", "terms", "users", "classes", "enrollments", "activity_logs"];

    public static async Task<SchoolSnapshot> TakeAsync(string connectionString, string userKey)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        var counts = new Dictionary<string, long>();
        foreach (var table in Tables)
            counts[table] = await connection.ExecuteScalarAsync<long>($"SELECT count(*) FROM {table}");

        async Task<string[]> Rows(string sql) => (await connection.QueryAsync<string>(sql.Replace("{key}", userKey))).ToArray();
        return new SchoolSnapshot(
            counts,
            await Rows("SELECT concat_ws(' ', {key}, role, email, first_name, last_name) FROM users u ORDER BY {key}"),
            await Rows("SELECT concat_ws(' ', c.id, {key}, c.name) FROM classes c JOIN users u ON u.id = c.teacher_id ORDER BY c.id"),
            await Rows("SELECT concat_ws(' ', e.id, e.class_id, {key}, e.enrolled_at, e.final_grade) FROM enrollments e JOIN users u ON u.id = e.student_id ORDER BY e.id"),
            await Rows("SELECT concat_ws(' ', a.id, {key}, a.action, a.occurred_at, a.details) FROM activity_logs a JOIN users u ON u.id = a.user_id ORDER BY a.id"));
    }
}

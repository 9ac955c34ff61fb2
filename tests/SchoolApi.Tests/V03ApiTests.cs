using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PgDeploy.Tests.Fixtures;
using School;
using SchoolApi.Tests.Support;

namespace SchoolApi.Tests;

/// The v0.3 build against the sample school at v0.3: integer ids, plaintext passwords, no assignments.
[Collection(PostgresCollection.Name)]
public sealed class V03ApiTests(PostgresFixture postgres) : ApiTests(postgres, "0.3")
{
    [Theory]
    [InlineData("teacher")]
    [InlineData("admin")]
    public async Task A_user_logs_in_with_the_plaintext_password_and_a_wrong_one_gets_401(string role)
    {
        var (id, email, name) = await Running.QuerySingleAsync<(int, string, string)>(
            "SELECT id, email, first_name || ' ' || last_name FROM users WHERE role = @role ORDER BY id LIMIT 1", new { role });
        var password = SampleData.PlaintextPassword(id, SchoolDatabases.Seed);

        using var response = await Running.Http.PostAsJsonAsync("/login", new { email, password });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var user = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(id, user.GetProperty("id").GetInt32());
        Assert.Equal(role, user.GetProperty("role").GetString());
        Assert.Equal(name, user.GetProperty("name").GetString());
        Assert.False(user.TryGetProperty("username", out _), "v0.3 has no usernames");
        Assert.Equal(HttpStatusCode.OK, await LoginAsync(email.ToUpperInvariant(), password));
        Assert.Equal(HttpStatusCode.Unauthorized, await LoginAsync(email, password + "x"));
        Assert.Equal(HttpStatusCode.Unauthorized, await LoginAsync("nobody@nowhere.example", password));
        Assert.Equal(HttpStatusCode.BadRequest, await LoginAsync(email, ""));
    }

    [Fact]
    public async Task Classes_are_listed_with_teacher_and_enrollment_count_and_shown_with_their_first_50_students()
    {
        var expected = await Running.QueryAsync<(int Id, int TeacherId, string TeacherName, long Enrollments)>(
            """
            SELECT c.id, u.id, u.first_name || ' ' || u.last_name, (SELECT count(*) FROM enrollments e WHERE e.class_id = c.id)
            FROM classes c JOIN users u ON u.id = c.teacher_id ORDER BY c.id
            """);

        var classes = await Running.Http.GetFromJsonAsync<JsonElement[]>("/classes");

        Assert.Equal(expected.Take(20), classes!.Select(c => (
            c.GetProperty("id").GetInt32(), c.GetProperty("teacher").GetProperty("id").GetInt32(),
            c.GetProperty("teacher").GetProperty("name").GetString()!, c.GetProperty("enrollmentCount").GetInt64())));
        Assert.Equal(2, (await Running.Http.GetFromJsonAsync<JsonElement[]>("/classes?limit=2"))!.Length);
        Assert.Equal(HttpStatusCode.BadRequest, (await Running.Http.GetAsync("/classes?limit=0")).StatusCode);

        var busiest = expected.MaxBy(c => c.Enrollments);
        Assert.True(busiest.Enrollments > 50, "the sample's classes should have more students than a page shows");
        var details = await Running.Http.GetFromJsonAsync<JsonElement>($"/classes/{busiest.Id}");
        Assert.Equal(busiest.Id, details.GetProperty("id").GetInt32());
        Assert.Equal(busiest.TeacherName, details.GetProperty("teacher").GetProperty("name").GetString());
        var enrolled = (await Running.QueryAsync<int>("SELECT student_id FROM enrollments WHERE class_id = @Id", new { busiest.Id })).ToHashSet();
        var students = details.GetProperty("students").EnumerateArray().Select(s => s.GetProperty("id").GetInt32()).ToList();
        Assert.Equal(50, students.Count);
        Assert.Subset(enrolled, students.ToHashSet());
        Assert.Equal(HttpStatusCode.NotFound, (await Running.Http.GetAsync("/classes/999999")).StatusCode);
    }

    [Fact]
    public async Task Assignments_do_not_exist_in_v03()
    {
        var classId = await Running.QuerySingleAsync<int>("SELECT min(id) FROM classes");

        using var list = await Running.Http.GetAsync($"/classes/{classId}/assignments");
        using var create = await Running.Http.PostAsJsonAsync($"/classes/{classId}/assignments", new { title = "Essay", dueAt = DateTimeOffset.UtcNow.AddDays(7) });

        Assert.Equal(HttpStatusCode.NotFound, list.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, create.StatusCode);
    }

    async Task<HttpStatusCode> LoginAsync(string email, string password)
    {
        using var response = await Running.Http.PostAsJsonAsync("/login", new { email, password });
        return response.StatusCode;
    }
}

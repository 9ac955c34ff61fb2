using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PgDeploy.Tests.Fixtures;
using School;
using SchoolApi.Tests.Support;

namespace SchoolApi.Tests;

/// The v0.4 build against the sample school upgraded to v0.4: UUID user ids, Argon2id hashes, assignments.
[Collection(PostgresCollection.Name)]
public sealed class V04ApiTests(PostgresFixture postgres) : ApiTests(postgres, "0.4")
{
    [Fact]
    public async Task Health_answers_503_while_the_fence_keeps_the_role_out_and_200_again_after()
    {
        await Running.Role.FenceAsync(true);
        var fenced = await HealthUntilAsync(HttpStatusCode.ServiceUnavailable);
        Assert.Equal("unavailable", fenced.GetProperty("status").GetString());

        await Running.Role.FenceAsync(false);
        await HealthUntilAsync(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("teacher")]
    [InlineData("admin")]
    public async Task A_user_logs_in_against_the_argon2id_hash_by_email_or_username_and_a_wrong_password_gets_401(string role)
    {
        var (id, legacyId, email, username, displayName) = await Running.QuerySingleAsync<(Guid, int, string, string, string)>(
            "SELECT id, legacy_id, email, username, display_name FROM users WHERE role = @role ORDER BY legacy_id LIMIT 1", new { role });
        var password = SampleData.PlaintextPassword(legacyId, SchoolDatabases.Seed);

        using var response = await Running.Http.PostAsJsonAsync("/login", new { email, password });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var user = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(id, user.GetProperty("id").GetGuid());
        Assert.Equal(role, user.GetProperty("role").GetString());
        Assert.Equal(displayName, user.GetProperty("name").GetString());
        Assert.Equal(displayName, user.GetProperty("displayName").GetString());
        Assert.Equal(username, user.GetProperty("username").GetString());
        using (var byUsername = await Running.Http.PostAsJsonAsync("/login", new { username, password }))
            Assert.Equal(HttpStatusCode.OK, byUsername.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await LoginAsync(email, password + "x"));
        Assert.Equal(HttpStatusCode.Unauthorized, await LoginAsync("nobody@nowhere.example", password));
    }

    [Fact]
    public async Task Classes_keep_integer_ids_and_show_teachers_and_students_by_uuid_and_display_name()
    {
        var expected = await Running.QueryAsync<(int Id, Guid TeacherId, string TeacherName, long Enrollments)>(
            """
            SELECT c.id, u.id, u.display_name, (SELECT count(*) FROM enrollments e WHERE e.class_id = c.id)
            FROM classes c JOIN users u ON u.id = c.teacher_id ORDER BY c.id
            """);

        var classes = await Running.Http.GetFromJsonAsync<JsonElement[]>("/classes");

        Assert.Equal(expected.Take(20), classes!.Select(c => (
            c.GetProperty("id").GetInt32(), c.GetProperty("teacher").GetProperty("id").GetGuid(),
            c.GetProperty("teacher").GetProperty("name").GetString()!, c.GetProperty("enrollmentCount").GetInt64())));

        var busiest = expected.MaxBy(c => c.Enrollments);
        var details = await Running.Http.GetFromJsonAsync<JsonElement>($"/classes/{busiest.Id}");
        Assert.Equal(busiest.TeacherId, details.GetProperty("teacher").GetProperty("id").GetGuid());
        var enrolled = (await Running.QueryAsync<Guid>("SELECT student_id FROM enrollments WHERE class_id = @Id", new { busiest.Id })).ToHashSet();
        var students = details.GetProperty("students").EnumerateArray().Select(s => s.GetProperty("id").GetGuid()).ToList();
        Assert.Equal(Math.Min(50, busiest.Enrollments), students.Count);
        Assert.Subset(enrolled, students.ToHashSet());
        Assert.Equal(HttpStatusCode.NotFound, (await Running.Http.GetAsync("/classes/999999")).StatusCode);
    }

    [Fact]
    public async Task Assignments_are_created_for_the_classs_teacher_and_listed_by_due_date()
    {
        var (classId, teacherId) = await Running.QuerySingleAsync<(int, Guid)>("SELECT id, teacher_id FROM classes ORDER BY id DESC LIMIT 1");
        var run = Guid.NewGuid().ToString("N")[..8];

        using var later = await Running.Http.PostAsJsonAsync($"/classes/{classId}/assignments", new { title = $"Essay {run}", dueAt = "2031-05-01T12:00:00+02:00" });
        using var sooner = await Running.Http.PostAsJsonAsync($"/classes/{classId}/assignments", new { title = $"  Worksheet {run} ", dueAt = "2031-04-01T08:00:00Z" });

        Assert.Equal(HttpStatusCode.Created, later.StatusCode);
        Assert.Equal(HttpStatusCode.Created, sooner.StatusCode);
        var created = await later.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal($"Essay {run}", created.GetProperty("title").GetString());
        Assert.Equal(classId, created.GetProperty("classId").GetInt32());
        Assert.Equal(new DateTimeOffset(2031, 5, 1, 10, 0, 0, TimeSpan.Zero), created.GetProperty("dueAt").GetDateTimeOffset());
        Assert.Equal(teacherId, created.GetProperty("createdBy").GetProperty("id").GetGuid());
        Assert.Equal(100m, created.GetProperty("maxPoints").GetDecimal());
        Assert.Equal(teacherId, await Running.QuerySingleAsync<Guid>(
            "SELECT created_by FROM assignments WHERE id = @id", new { id = created.GetProperty("id").GetGuid() }));

        var listed = (await Running.Http.GetFromJsonAsync<JsonElement[]>($"/classes/{classId}/assignments"))!;
        var dueDates = listed.Select(a => a.GetProperty("dueAt").GetDateTimeOffset()).ToList();
        Assert.Equal(dueDates.Order(), dueDates);
        Assert.Equal([$"Worksheet {run}", $"Essay {run}"], listed.Select(a => a.GetProperty("title").GetString()).Where(title => title!.Contains(run)));
    }

    [Fact]
    public async Task An_assignment_needs_a_title_a_due_date_and_an_existing_class()
    {
        var classId = await Running.QuerySingleAsync<int>("SELECT min(id) FROM classes");
        var due = DateTimeOffset.UtcNow.AddDays(7);

        Assert.Equal(HttpStatusCode.BadRequest, await CreateAssignmentAsync(classId, new { title = " ", dueAt = due }));
        Assert.Equal(HttpStatusCode.BadRequest, await CreateAssignmentAsync(classId, new { title = "Essay" }));
        Assert.Equal(HttpStatusCode.NotFound, await CreateAssignmentAsync(999999, new { title = "Essay", dueAt = due }));
        Assert.Equal(HttpStatusCode.NotFound, (await Running.Http.GetAsync("/classes/999999/assignments")).StatusCode);
        Assert.Equal(0, await Running.QuerySingleAsync<long>("SELECT count(*) FROM assignments WHERE title IN (' ', 'Essay')"));
    }

    async Task<HttpStatusCode> LoginAsync(string email, string password)
    {
        using var response = await Running.Http.PostAsJsonAsync("/login", new { email, password });
        return response.StatusCode;
    }

    async Task<HttpStatusCode> CreateAssignmentAsync(int classId, object body)
    {
        using var response = await Running.Http.PostAsJsonAsync($"/classes/{classId}/assignments", body);
        return response.StatusCode;
    }

    async Task<JsonElement> HealthUntilAsync(HttpStatusCode status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await Running.Http.GetAsync("/health");
            if (response.StatusCode == status)
                return await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(DateTime.UtcNow < deadline, $"/health still answers {(int)response.StatusCode}, not {(int)status}:\n{Running.Api.Output}");
            await Task.Delay(200);
        }
    }
}

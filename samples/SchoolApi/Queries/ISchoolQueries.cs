using System.Text.Json.Serialization;

namespace SchoolApi.Queries;

/// Everything the endpoints read or write, as one build of the API sees the schema. V03Queries and V04Queries are the
/// only places where the versions differ; user ids are ints in v0.3 and UUIDs in v0.4, hence `object`.
public interface ISchoolQueries
{
    /// The user whose email (v0.4: or username) and password match, or null.
    Task<LoginResult?> LoginAsync(string login, string password, CancellationToken cancellationToken);

    Task<IReadOnlyList<ClassSummary>> ListClassesAsync(int limit, CancellationToken cancellationToken);

    /// The class with its teacher and its first students, or null if there is no such class.
    Task<ClassDetails?> GetClassAsync(int classId, CancellationToken cancellationToken);

    /// A class's assignments by due date, or null if there is no such class or this version has no assignments.
    Task<IReadOnlyList<Assignment>?> ListAssignmentsAsync(int classId, CancellationToken cancellationToken);

    /// The new assignment, set by the class's teacher, or null if there is no such class or this version has no assignments.
    Task<Assignment?> CreateAssignmentAsync(int classId, string title, DateTimeOffset dueAt, CancellationToken cancellationToken);
}

public sealed record Person(object Id, string Name);

public sealed record LoginResult(
    object Id,
    string Role,
    string Name,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Username = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? DisplayName = null);

public sealed record ClassSummary(int Id, string Name, string Subject, string? Room, string Term, Person Teacher, long EnrollmentCount);

public sealed record ClassDetails(
    int Id, string Name, string Subject, string? Room, string Term, Person Teacher, long EnrollmentCount, IReadOnlyList<Person> Students);

public sealed record Assignment(
    Guid Id, int ClassId, string Title, string? Description, DateTime DueAt, decimal MaxPoints, Person CreatedBy, DateTime CreatedAt);

/// The rows both versions read, generic in the type of the user ids. Column aliases are the parameter names, for Dapper.
sealed record ClassRow<TUserId>(int Id, string Name, string Subject, string? Room, string Term, TUserId TeacherId, string TeacherName, long EnrollmentCount)
    where TUserId : notnull
{
    public ClassSummary ToSummary() => new(Id, Name, Subject, Room, Term, new Person(TeacherId, TeacherName), EnrollmentCount);

    public ClassDetails ToDetails(IEnumerable<PersonRow<TUserId>> students) =>
        new(Id, Name, Subject, Room, Term, new Person(TeacherId, TeacherName), EnrollmentCount, students.Select(s => s.ToPerson()).ToList());
}

sealed record PersonRow<TUserId>(TUserId Id, string Name) where TUserId : notnull
{
    public Person ToPerson() => new(Id, Name);
}

using PgDeploy.Migrations.PostProcessing;

namespace Migrations.V0_4;

/// <summary>Fills students.display_name ("LAST, First") for every student: read in batches, computed in parallel, written back by COPY and UPDATE.</summary>
public sealed class FillDisplayNames : PostProcessStep
{
    public const int BatchSize = 500;

    public override string Description => "Fill students.display_name from the first and last names";

    public override Task ExecuteAsync(StepContext context) =>
        context.TransformAsync(new BatchTransform<StudentName, (int, string)>
        {
            Name = "display names",
            Source = "SELECT id, first_name AS FirstName, last_name AS LastName FROM students ORDER BY id",
            Compute = student => (student.Id, DisplayName(student.FirstName, student.LastName)),
            Table = "students",
            KeyColumn = "id",
            Columns = ["display_name"],
            BatchSize = BatchSize,
        });

    public static string DisplayName(string firstName, string lastName) => $"{lastName.ToUpperInvariant()}, {firstName}";

    public sealed record StudentName(int Id, string FirstName, string LastName);
}

using PgDeploy.Migrations.PostProcessing;

namespace Migrations.V0_4;

/// <summary>A data step with a bug: it inserts students (drawing ids from their sequence) and updates others, then throws.</summary>
public sealed class WriteRowsThenFail : PostProcessStep
{
    public const string Failure = "the transcript service rejected student 42";

    public override string Description => "Import late enrolments from the transcript service";

    public override async Task ExecuteAsync(StepContext context)
    {
        await context.ExecuteAsync("INSERT INTO students (first_name, last_name) SELECT 'Late', 'Comer ' || g FROM generate_series(1, 50) AS g");
        await context.ExecuteAsync("UPDATE students SET last_name = upper(last_name) WHERE id <= 100");
        throw new InvalidOperationException(Failure);
    }
}

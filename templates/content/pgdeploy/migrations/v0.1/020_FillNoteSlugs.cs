using PgDeploy.Migrations.PostProcessing;

namespace Migrations.V0_1;

/// A C# data step: work SQL does badly, done in batches on all cores in the upgrade's transaction, in PostProcess.
public sealed class FillNoteSlugs : PostProcessStep
{
    public override string Description => "Fill notes.slug from the title";

    public override Task ExecuteAsync(StepContext context) =>
        context.TransformAsync(new BatchTransform<Note, (long, string)>
        {
            Name = "note slugs",
            Source = "SELECT id, title FROM notes ORDER BY id",
            Compute = note => (note.Id, Slug(note.Title)),
            Table = "notes",
            KeyColumn = "id",
            Columns = ["slug"],
        });

    static string Slug(string title) =>
        string.Join('-', title.ToLowerInvariant().Split(title.Where(c => !char.IsLetterOrDigit(c)).Distinct().ToArray(), StringSplitOptions.RemoveEmptyEntries));

    public sealed record Note(long Id, string Title);
}

using System.Text.Json;

namespace PgDeploy.Safety.Verification;

/// Orphan checks for references the schema does not enforce, declared in the version's
/// verify/references.json as [{ "from": "activity_logs(user_id)", "to": "users(id)" }]. They follow
/// MATCH SIMPLE, as a foreign key would by default: a key with a null is exempt. No file, no checks.
static class DeclaredReferenceChecks
{
    public const string FileName = "references.json";

    sealed record Declaration(string? From, string? To);

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public static async Task<IReadOnlyList<CheckResult>> RunAsync(string verifyDirectory, GuardedQuery query, CancellationToken cancellationToken)
    {
        var path = Path.Combine(verifyDirectory, FileName);
        if (!File.Exists(path))
            return [];
        IReadOnlyList<Declaration> declarations;
        try
        {
            declarations = JsonSerializer.Deserialize<List<Declaration>>(await File.ReadAllTextAsync(path, cancellationToken), Json) ?? [];
        }
        catch (JsonException exception)
        {
            return [CheckResult.Of($"Declared references ({FileName})", "unreadable", passed: false,
                $"{path} is not a JSON list of {{ \"from\": \"table(column)\", \"to\": \"table(column)\" }}: {exception.Message}")];
        }

        var checks = new List<CheckResult>();
        foreach (var declaration in declarations)
        {
            var name = $"Declared reference: {declaration.From} → {declaration.To}";
            try
            {
                var reference = Parse(declaration);
                checks.Add(await OrphanCheck.RunAsync(query, $"Declared reference: {reference}", reference, "", cancellationToken));
            }
            catch (FormatException exception)
            {
                checks.Add(CheckResult.Of(name, "unreadable", passed: false, $"in {path}: {exception.Message}"));
            }
        }
        return checks;
    }

    static Reference Parse(Declaration declaration)
    {
        var (child, childColumns) = ParseEnd(declaration.From, "from");
        var (parent, parentColumns) = ParseEnd(declaration.To, "to");
        if (childColumns.Count != parentColumns.Count)
            throw new FormatException($"\"from\" names {childColumns.Count} column(s) and \"to\" {parentColumns.Count}: a reference pairs them one to one");
        return new Reference(child, childColumns, parent, parentColumns, MatchFull: false, EqualityOperators: []);
    }

    /// "schema.table(column, column)": the column list starts at the first parenthesis outside double quotes.
    static (TableName Table, IReadOnlyList<string> Columns) ParseEnd(string? text, string field)
    {
        var open = OpeningParenthesis(text ?? "");
        if (text is null || open < 0 || !text.TrimEnd().EndsWith(')'))
            throw new FormatException($"\"{field}\" must be written table(column) or schema.table(column, column), not '{text}'");
        var columns = text.TrimEnd()[(open + 1)..^1];
        return (TableName.Parse(text[..open]), SqlIdentifiers.Split(columns, ','));
    }

    static int OpeningParenthesis(string text)
    {
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '"')
                quoted = !quoted;
            else if (text[i] == '(' && !quoted)
                return i;
        }
        return -1;
    }
}

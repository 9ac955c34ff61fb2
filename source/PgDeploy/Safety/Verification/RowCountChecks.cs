using System.Globalization;
using System.Text.Json;
using Npgsql;

namespace PgDeploy.Safety.Verification;

/// Compares exact row counts now with the exact counts captured at backup, inside the fence (not the
/// planner's estimates), by the rules of the version's verify/counts.json:
/// { "users": "unchanged", "activity_logs": "at-least:1", "roles": "exactly:3", "user_passwords": "same-as:users" }.
/// same-as compares with the other table's count at backup, for a table that replaces another. Tables
/// counted at backup that no rule names are compared too, for information only.
static class RowCountChecks
{
    public const string FileName = "counts.json";

    const string RuleForms = "unchanged, exactly:N, at-least:N or same-as:<table>";

    static readonly JsonSerializerOptions Json = new() { ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public static async Task<IReadOnlyList<CheckResult>> RunAsync(
        string verifyDirectory, IReadOnlyDictionary<string, long> backupCounts, GuardedQuery query, CancellationToken cancellationToken)
    {
        var atBackup = backupCounts.ToDictionary(entry => TableName.Parse(entry.Key), entry => entry.Value);
        var path = Path.Combine(verifyDirectory, FileName);
        Dictionary<string, string> rules;
        try
        {
            rules = File.Exists(path) ? JsonSerializer.Deserialize<Dictionary<string, string>>(await File.ReadAllTextAsync(path, cancellationToken), Json) ?? [] : [];
        }
        catch (JsonException exception)
        {
            return [CheckResult.Of($"Row count rules ({FileName})", "unreadable", passed: false,
                $"{path} is not a JSON object of table names and rules ({RuleForms}): {exception.Message}")];
        }

        var checks = new List<CheckResult>();
        var ruled = new HashSet<TableName>();
        foreach (var (tableText, rule) in rules)
        {
            var name = $"Row count: {tableText} {rule}";
            try
            {
                var table = TableName.Parse(tableText);
                ruled.Add(table);
                checks.Add(Judge(name, table, rule, await CountAsync(query, table, cancellationToken), atBackup));
            }
            catch (FormatException exception)
            {
                checks.Add(CheckResult.Of(name, "unreadable", passed: false, $"in {path}: {exception.Message}"));
            }
            catch (PostgresException exception)
            {
                checks.Add(CheckResult.QueryFailed(name, exception));
            }
        }
        checks.Add(await UnruledChangesAsync(atBackup, ruled, query, cancellationToken));
        return checks;
    }

    static CheckResult Judge(string name, TableName table, string rule, long? now, IReadOnlyDictionary<TableName, long> atBackup)
    {
        if (now is not { } count)
            return CheckResult.Of(name, "no table", passed: false, $"{table} does not exist now, but {FileName} expects rows in it");
        var figure = CheckResult.Counted(count, "row");
        var (kind, argument) = rule.IndexOf(':') is var colon and >= 0 ? (rule[..colon].Trim(), rule[(colon + 1)..].Trim()) : (rule.Trim(), "");
        switch (kind)
        {
            case "unchanged" when argument.Length == 0:
                return AtBackup(table) is { } before
                    ? CheckResult.Of(name, figure, count == before, $"{before} at backup")
                    : NotCountedAtBackup(table);
            case "exactly" when long.TryParse(argument, NumberStyles.None, CultureInfo.InvariantCulture, out var exactly):
                return CheckResult.Of(name, figure, count == exactly, $"expected exactly {exactly}");
            case "at-least" when long.TryParse(argument, NumberStyles.None, CultureInfo.InvariantCulture, out var atLeast):
                return CheckResult.Of(name, figure, count >= atLeast, $"expected at least {atLeast}");
            case "same-as" when argument.Length > 0:
                var other = TableName.Parse(argument);
                return AtBackup(other) is { } otherBefore
                    ? CheckResult.Of(name, figure, count == otherBefore, $"{other} had {otherBefore} at backup")
                    : NotCountedAtBackup(other);
            default:
                return CheckResult.Of(name, figure, passed: false, $"the rule '{rule}' is not understood: write {RuleForms}");
        }

        long? AtBackup(TableName counted) => atBackup.TryGetValue(counted, out var before) ? before : null;

        CheckResult NotCountedAtBackup(TableName counted) =>
            CheckResult.Of(name, figure, passed: false, $"{counted} was not counted at backup, so there is nothing to compare with");
    }

    static async Task<CheckResult> UnruledChangesAsync(
        IReadOnlyDictionary<TableName, long> atBackup, IReadOnlySet<TableName> ruled, GuardedQuery query, CancellationToken cancellationToken)
    {
        const string name = "Row counts without a rule";
        if (atBackup.Count == 0)
            return CheckResult.Of(name, "0 changed", passed: true, "no counts were captured at backup");
        var changes = new List<string>();
        foreach (var (table, before) in atBackup.Where(entry => !ruled.Contains(entry.Key)).OrderBy(entry => entry.Key.ToString(), StringComparer.Ordinal))
        {
            var now = await CountAsync(query, table, cancellationToken);
            if (now != before)
                changes.Add($"{table} {before} → {(now is { } count ? count.ToString(CultureInfo.InvariantCulture) : "table gone")}");
        }
        return changes.Count == 0
            ? CheckResult.Of(name, "0 changed", passed: true, "every other table counted at backup has the same count")
            : new CheckResult(name, $"{changes.Count} changed", Verdict.Informational, string.Join("; ", changes));
    }

    /// The exact count, or null when the table does not exist.
    static async Task<long?> CountAsync(GuardedQuery query, TableName table, CancellationToken cancellationToken)
    {
        try
        {
            return await query.CountAsync($"SELECT count(*) FROM {table.Sql}", cancellationToken);
        }
        catch (PostgresException exception) when (exception.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName)
        {
            return null;
        }
    }
}

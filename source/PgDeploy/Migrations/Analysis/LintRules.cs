namespace PgDeploy.Migrations.Analysis;

/// <summary>
/// How this runner tunes every rule of the pinned squawk (squawk-cli 2.66.0) to its own reality: off where the runner already does what
/// the rule asks, an error where the statement would fail or lose rows the script does not name, a warning where the cost is the
/// window's length or the application's code. README's table says the same; a test proves every name is a rule squawk knows.
/// </summary>
public static class LintRules
{
    /// <param name="Severity">Null: the rule is off (passed to squawk as --exclude).</param>
    /// <param name="Fix">Replaces squawk's help where its advice is for a live application and wrong under the fence.</param>
    public sealed record Rule(string Name, FindingSeverity? Severity, string Reason, string? Fix = null);

    /// squawk's own name for what its parser could not read.
    public const string SyntaxError = "syntax-error";

    /// What squawk reports about its input rather than about a statement: it takes them in neither --include nor --exclude.
    public static readonly IReadOnlySet<string> Unconfigurable = new HashSet<string> { SyntaxError, "unused-ignore" };

    const string Fenced = "the application is fenced, so the lock blocks no one: the scan or rewrite under it costs window time";
    const string FencedFix =
        "Under the fence keep it: squawk's CONCURRENTLY / NOT VALID forms would need a commit point; if the table is large, do the work before the window.";
    const string Replaced = "the new version ships with this migration and the old one is fenced off, so no running client breaks; " +
                            "but the old version cannot run on the new schema (a revert after the commit is a rollback), so a reviewer should see it";
    const string ColumnType = "a type a later migration pays for (a rewrite to change it); not this window's risk";
    const string ByTheParser = "an error already: the script parser refuses it when the plan is made, with the fix; one refusal, one message";

    public static readonly IReadOnlyList<Rule> All =
    [
        new("require-lock-timeout", null, "the runner sets lock_timeout for every step (migrations.lockTimeout or -- deploy:lock-timeout) and retries from a savepoint"),
        new("require-statement-timeout", null, "the runner sets statement_timeout for every step (migrations.scriptStatementTimeout or -- deploy:statement-timeout)"),
        new("require-timeout-settings", null, "both timeouts are the runner's, as above"),
        new("transaction-nesting", null, $"transaction control in a script: {ByTheParser}"),
        new("ban-uncommitted-transaction", null, $"BEGIN without COMMIT: {ByTheParser}"),
        new("ban-concurrent-index-creation-in-transaction", null,
            $"CREATE INDEX CONCURRENTLY outside a -- deploy:no-transaction script: {ByTheParser}"),
        new("require-table-schema", null, "opt-in in squawk, left off: the scripts run with the database's search_path, as the application does"),

        new("ban-drop-database", FindingSeverity.Error, "a migration never drops a database: the safe harbor covers this one database only"),
        new("ban-truncate-cascade", FindingSeverity.Error,
            "CASCADE empties every table that references the named one, tables the script does not name; only the safe harbor keeps their rows"),
        new("ban-duplicate-column-assignments", FindingSeverity.Error,
            "PostgreSQL rejects the statement (multiple assignments to the same column), so the step would fail inside the window"),

        new("require-concurrent-index-creation", FindingSeverity.Warning, Fenced, FencedFix),
        new("require-concurrent-index-deletion", FindingSeverity.Warning, Fenced, FencedFix),
        new("require-concurrent-reindex", FindingSeverity.Warning, Fenced, FencedFix),
        new("require-concurrent-partition-detach", FindingSeverity.Warning, Fenced, FencedFix),
        new("constraint-missing-not-valid", FindingSeverity.Warning, Fenced, FencedFix),
        new("adding-foreign-key-constraint", FindingSeverity.Warning, Fenced, FencedFix),
        new("disallowed-unique-constraint", FindingSeverity.Warning, Fenced, FencedFix),
        new("adding-serial-primary-key-field", FindingSeverity.Warning, Fenced, FencedFix),
        new("adding-not-nullable-field", FindingSeverity.Warning, Fenced, FencedFix),
        new("adding-field-with-default", FindingSeverity.Warning, $"{Fenced} (--pg-version tells squawk that a constant default rewrites nothing)", FencedFix),
        new("changing-column-type", FindingSeverity.Warning, Fenced, FencedFix),
        new("ban-alter-domain-with-add-constraint", FindingSeverity.Warning, Fenced, FencedFix),
        new("prefer-repack", FindingSeverity.Warning, Fenced, FencedFix),

        new("ban-drop-column", FindingSeverity.Warning, $"{Replaced}; the column's data is then only in the safe harbor"),
        new("ban-drop-table", FindingSeverity.Warning, $"{Replaced}; the table's rows are then only in the safe harbor"),
        new("renaming-column", FindingSeverity.Warning, Replaced),
        new("renaming-table", FindingSeverity.Warning, Replaced),
        new("ban-drop-not-null", FindingSeverity.Warning, $"{Replaced}; the new version must handle NULLs"),
        new("adding-required-field", FindingSeverity.Warning, $"{Replaced}; the new version must set the column"),

        new("prefer-robust-stmts", FindingSeverity.Warning,
            "squawk raises it only outside a transaction (every script but the no-transaction ones is linted with --assume-in-transaction): " +
            "a no-transaction script that fails half-way is run again from its start, so it must be re-runnable"),
        new("prefer-bigint-over-int", FindingSeverity.Warning, ColumnType),
        new("prefer-bigint-over-smallint", FindingSeverity.Warning, ColumnType),
        new("prefer-identity", FindingSeverity.Warning, ColumnType),
        new("prefer-text-field", FindingSeverity.Warning, ColumnType),
        new("prefer-timestamp-tz", FindingSeverity.Warning, ColumnType),
        new("ban-char-field", FindingSeverity.Warning, ColumnType),
        new("ban-create-domain-with-constraint", FindingSeverity.Warning, "a domain's constraint is later changed only with a scan of every column of that type"),
        new("identifier-too-long", FindingSeverity.Warning, "PostgreSQL cuts names at 63 bytes: the object gets another name than the script's, and two can collide"),
        new("require-enum-value-ordering", FindingSeverity.Warning, "where a new enum value goes decides how the type sorts: say it with BEFORE or AFTER"),
        new("unused-ignore", FindingSeverity.Warning, "a stale -- squawk-ignore comment; -- deploy:allow is this runner's acknowledgement, with its reason in the report"),
        new(SyntaxError, FindingSeverity.Warning,
            "squawk's parser could not read the statement, so no rule checked it; its parser is not PostgreSQL's, whose verdict is the one that counts"),
    ];

    public static IEnumerable<string> Excluded => All.Where(rule => rule.Severity is null).Select(rule => rule.Name);

    /// A rule of a newer squawk that this table does not know yet is shown as a warning, never refusing, until someone tunes it.
    public static Rule Of(string name) =>
        All.FirstOrDefault(rule => rule.Name == name) ?? new Rule(name, FindingSeverity.Warning, "not tuned yet: add it to LintRules and README");
}

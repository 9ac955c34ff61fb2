using PgDeploy.Postgres;

namespace PgDeploy.Safety.Verification;

/// A table as the verify files and the backup counts name it: [schema.]table, read as PostgreSQL reads
/// identifiers. A name without a schema means public, not whatever search_path says, so that a name means
/// the same table at backup time and now.
readonly record struct TableName(string Schema, string Name)
{
    public static TableName Parse(string text)
    {
        var parts = SqlIdentifiers.Split(text, '.');
        return parts.Count switch
        {
            1 => new TableName("public", parts[0]),
            2 => new TableName(parts[0], parts[1]),
            _ => throw new FormatException($"'{text}' is not a table name: write table or schema.table"),
        };
    }

    public string Sql => $"{DatabaseAdmin.QuoteIdentifier(Schema)}.{DatabaseAdmin.QuoteIdentifier(Name)}";

    public override string ToString() => Schema == "public" ? Name : $"{Schema}.{Name}";
}

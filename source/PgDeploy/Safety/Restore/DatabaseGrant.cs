using PgDeploy.Postgres;

namespace PgDeploy.Safety;

/// <summary>Privileges on a database (CONNECT, TEMPORARY, CREATE) held by one role, or by PUBLIC when <paramref name="Grantee"/> is null.</summary>
sealed record DatabaseGrant(string? Grantee, IReadOnlyList<string> Privileges, bool WithGrantOption)
{
    public string ApplyTo(string database) =>
        $"GRANT {string.Join(", ", Privileges)} ON DATABASE {DatabaseAdmin.QuoteIdentifier(database)} "
        + $"TO {(Grantee is null ? "PUBLIC" : DatabaseAdmin.QuoteIdentifier(Grantee))}{(WithGrantOption ? " WITH GRANT OPTION" : "")}";
}

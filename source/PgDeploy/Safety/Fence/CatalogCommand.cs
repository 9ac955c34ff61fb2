using Dapper;
using Npgsql;

namespace PgDeploy.Safety.Fence;

/// Runs the fence's utility statements (ALTER ROLE, ALTER DATABASE, COMMENT ON DATABASE), which take no
/// parameters: the server's own format() quotes the names (%I) and the comment text (%L), so quoting
/// follows the server's rules (standard_conforming_strings included) rather than a copy of them.
static class CatalogCommand
{
    public static async Task ExecuteAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string template, string?[] arguments, CancellationToken cancellationToken)
    {
        var sql = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
            "SELECT format(@template, VARIADIC @arguments)", new { template, arguments }, transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(sql!, transaction: transaction, cancellationToken: cancellationToken));
    }
}

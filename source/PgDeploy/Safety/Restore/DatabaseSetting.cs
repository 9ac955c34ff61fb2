using System.Text;
using PgDeploy.Postgres;

namespace PgDeploy.Safety;

/// <summary>
/// One row of pg_db_role_setting for a database: ALTER DATABASE … SET (no role) or ALTER ROLE … IN DATABASE … SET. The
/// maintenance fence's default_transaction_read_only = on is one of these.
/// </summary>
sealed record DatabaseSetting(string? Role, string Name, string Value)
{
    // Settings whose value the server stores as a list of quoted elements ("$user", public): each element must be given
    // as its own literal, or the whole list would become one element. The same list pg_dump keeps (variable_is_guc_list_quote).
    static readonly HashSet<string> ListQuotedSettings = new(StringComparer.OrdinalIgnoreCase)
    {
        "local_preload_libraries", "search_path", "session_preload_libraries", "shared_preload_libraries", "temp_tablespaces", "unix_socket_directories",
    };

    /// <summary>From a setconfig entry such as "search_path=\"$user\", public".</summary>
    public static DatabaseSetting Parse(string? role, string entry)
    {
        var equals = entry.IndexOf('=');
        return new DatabaseSetting(role, entry[..equals], entry[(equals + 1)..]);
    }

    public string ApplyTo(string database)
    {
        var target = Role is null
            ? $"DATABASE {DatabaseAdmin.QuoteIdentifier(database)}"
            : $"ROLE {DatabaseAdmin.QuoteIdentifier(Role)} IN DATABASE {DatabaseAdmin.QuoteIdentifier(database)}";
        var value = ListQuotedSettings.Contains(Name)
            ? string.Join(", ", SplitList(Value).Select(SqlLiteral.Quote))
            : SqlLiteral.Quote(Value);
        return $"ALTER {target} SET {DatabaseAdmin.QuoteIdentifier(Name)} = {value}";
    }

    // "\"$user\", public, \"we ird\"" → $user, public, we ird: elements separated by commas, double-quoted ones with "" for a quote.
    static IEnumerable<string> SplitList(string list)
    {
        var position = 0;
        while (true)
        {
            while (position < list.Length && char.IsWhiteSpace(list[position]))
            {
                position++;
            }

            var element = new StringBuilder();
            if (position < list.Length && list[position] == '"')
            {
                for (position++; position < list.Length; position++)
                {
                    if (list[position] != '"')
                    {
                        element.Append(list[position]);
                    }
                    else if (position + 1 < list.Length && list[position + 1] == '"')
                    {
                        element.Append('"');
                        position++;
                    }
                    else
                    {
                        position++;
                        break;
                    }
                }

                yield return element.ToString();
            }
            else
            {
                while (position < list.Length && list[position] != ',')
                {
                    element.Append(list[position++]);
                }

                yield return element.ToString().TrimEnd();
            }

            var comma = list.IndexOf(',', position);
            if (comma < 0)
            {
                yield break;
            }

            position = comma + 1;
        }
    }
}

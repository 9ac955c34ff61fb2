using Dapper;
using Npgsql;
using PgDeploy.Postgres;

namespace PgDeploy.Safety;

/// <summary>
/// What belongs to a database object rather than to its contents, and so is not in a pg_dump archive: owner, encoding and locale
/// (needed to create its replacement), and its settings, grants, connection limit, connection switch and comment, which the
/// replacement takes over. The maintenance fence lives in some of these (default_transaction_read_only, revoked CONNECT), so
/// carrying them over keeps the restored database fenced until the fence is lifted.
/// </summary>
sealed record DatabaseProperties
{
    public required string Name { get; init; }
    public required string Owner { get; init; }
    public required string Encoding { get; init; }
    public required string Collate { get; init; }
    public required string CType { get; init; }
    /// <summary>datlocprovider (PostgreSQL 15+): c (libc), i (ICU) or b (builtin, 17+); null before 15.</summary>
    public required string? LocaleProvider { get; init; }
    /// <summary>The ICU or builtin locale: daticulocale (15, 16) or datlocale (17+).</summary>
    public required string? ProviderLocale { get; init; }
    public required string? IcuRules { get; init; }
    public required string Tablespace { get; init; }
    public required int ConnectionLimit { get; init; }
    public required bool AllowConnections { get; init; }
    public required string? Comment { get; init; }
    /// <summary>Null while the database has its default privileges (datacl is null), which a new database has too.</summary>
    public required IReadOnlyList<DatabaseGrant>? Grants { get; init; }
    public required IReadOnlyList<DatabaseSetting> Settings { get; init; }

    const string DefaultTablespace = "pg_default";

    // The locale columns differ by version (daticulocale became datlocale in 17); reading them from to_jsonb(d) takes whichever exist.
    const string PropertiesSql =
        """
        SELECT pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding), d.datcollate, d.datctype,
               to_jsonb(d) ->> 'datlocprovider', coalesce(to_jsonb(d) ->> 'datlocale', to_jsonb(d) ->> 'daticulocale'), to_jsonb(d) ->> 'daticurules',
               t.spcname, d.datconnlimit, d.datallowconn, shobj_description(d.oid, 'pg_database'), d.datacl IS NULL
        FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace
        WHERE d.datname = @name
        """;

    // In the ACL's own order, so the restored database's datacl reads exactly like the original's.
    const string GrantsSql =
        """
        SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END, a.is_grantable, array_agg(a.privilege_type ORDER BY a.privilege_type)
        FROM pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) WITH ORDINALITY a(grantor, grantee, privilege_type, is_grantable, position)
        WHERE d.datname = @name
        GROUP BY a.grantee, a.is_grantable ORDER BY min(a.position)
        """;

    const string SettingsSql =
        """
        SELECT CASE WHEN s.setrole = 0 THEN NULL ELSE pg_get_userbyid(s.setrole) END, c.entry
        FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
        CROSS JOIN LATERAL unnest(s.setconfig) WITH ORDINALITY c(entry, position)
        WHERE d.datname = @name
        ORDER BY s.setrole, c.position
        """;

    public static async Task<DatabaseProperties> ReadAsync(NpgsqlConnection connection, string database, CancellationToken cancellationToken)
    {
        var byName = new { name = database };
        var grants = await connection.QueryAsync<(string? Grantee, bool WithGrantOption, string[] Privileges)>(
            new CommandDefinition(GrantsSql, byName, cancellationToken: cancellationToken));
        var settings = await connection.QueryAsync<(string? Role, string Entry)>(
            new CommandDefinition(SettingsSql, byName, cancellationToken: cancellationToken));

        await using var command = new NpgsqlCommand(PropertiesSql, connection) { Parameters = { new NpgsqlParameter("name", database) } };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new DeploymentException(
                $"Database '{database}' does not exist, so there is nothing to restore over. Check the connection URL's database; nothing was changed.");
        }

        return new DatabaseProperties
        {
            Name = database,
            Owner = reader.GetString(0),
            Encoding = reader.GetString(1),
            Collate = reader.GetString(2),
            CType = reader.GetString(3),
            LocaleProvider = reader.IsDBNull(4) ? null : reader.GetString(4),
            ProviderLocale = reader.IsDBNull(5) ? null : reader.GetString(5),
            IcuRules = reader.IsDBNull(6) ? null : reader.GetString(6),
            Tablespace = reader.GetString(7),
            ConnectionLimit = reader.GetInt32(8),
            AllowConnections = reader.GetBoolean(9),
            Comment = reader.IsDBNull(10) ? null : reader.GetString(10),
            Grants = reader.GetBoolean(11)
                ? null
                : grants.Select(grant => new DatabaseGrant(grant.Grantee, grant.Privileges, grant.WithGrantOption)).ToList(),
            Settings = settings.Select(setting => DatabaseSetting.Parse(setting.Role, setting.Entry)).ToList(),
        };
    }

    /// <summary>An empty database to restore into, like this one in everything pg_restore cannot set: owner, encoding, locale, tablespace.</summary>
    /// <remarks>
    /// PostgreSQL demands CREATE on any tablespace the statement names, pg_default included, which a database owner with CREATEDB
    /// seldom has; template0 already puts the new database in pg_default, so only another tablespace is named.
    /// </remarks>
    public string CreateStatement(string newName)
    {
        var locale = LocaleProvider switch
        {
            null => "",
            "i" => $" LOCALE_PROVIDER icu ICU_LOCALE {SqlLiteral.Quote(ProviderLocale ?? "")}{(IcuRules is null ? "" : $" ICU_RULES {SqlLiteral.Quote(IcuRules)}")}",
            "b" => $" LOCALE_PROVIDER builtin BUILTIN_LOCALE {SqlLiteral.Quote(ProviderLocale ?? "")}",
            _ => " LOCALE_PROVIDER libc",
        };
        return $"CREATE DATABASE {DatabaseAdmin.QuoteIdentifier(newName)} TEMPLATE template0 OWNER {DatabaseAdmin.QuoteIdentifier(Owner)} "
               + $"ENCODING {SqlLiteral.Quote(Encoding)} LC_COLLATE {SqlLiteral.Quote(Collate)} LC_CTYPE {SqlLiteral.Quote(CType)}{locale}"
               + (Tablespace == DefaultTablespace ? "" : $" TABLESPACE {DatabaseAdmin.QuoteIdentifier(Tablespace)}");
    }

    /// <summary>
    /// Gives <paramref name="replacement"/> (as it is now) this database's owner, grants, settings, connection limit, comment and
    /// connection switch. A restored database starts as CreateStatement made it; a clone starts owned by the runner, with connections
    /// off and, once opened for its dump, CONNECT revoked from PUBLIC.
    /// </summary>
    public IEnumerable<string> CarryOverStatements(DatabaseProperties replacement)
    {
        var target = DatabaseAdmin.QuoteIdentifier(replacement.Name);
        // First, so that the grants below are the owner's, as the original's are.
        if (replacement.Owner != Owner)
        {
            yield return $"ALTER DATABASE {target} OWNER TO {DatabaseAdmin.QuoteIdentifier(Owner)}";
        }

        // A database with its default privileges gets them spelled out only when the replacement's differ.
        var grants = Grants ?? (replacement.Grants is null ? null : DefaultGrants);
        if (grants is not null)
        {
            // A new database starts with the default privileges (PUBLIC may connect and create temporary tables); clear them
            // so that exactly the original's grants remain, the owner's own included.
            yield return $"REVOKE ALL ON DATABASE {target} FROM PUBLIC, {DatabaseAdmin.QuoteIdentifier(Owner)}";
            foreach (var grant in grants)
            {
                yield return grant.ApplyTo(replacement.Name);
            }
        }

        foreach (var setting in Settings)
        {
            yield return setting.ApplyTo(replacement.Name);
        }

        if (ConnectionLimit != replacement.ConnectionLimit)
        {
            yield return $"ALTER DATABASE {target} CONNECTION LIMIT {ConnectionLimit}";
        }

        if (Comment != replacement.Comment)
        {
            yield return $"COMMENT ON DATABASE {target} IS {(Comment is null ? "NULL" : SqlLiteral.Quote(Comment))}";
        }

        // Last: once it is off, not even this restore could connect to finish the other steps.
        if (AllowConnections != replacement.AllowConnections)
        {
            yield return $"ALTER DATABASE {target} ALLOW_CONNECTIONS {(AllowConnections ? "true" : "false")}";
        }
    }

    /// <summary>What a null datacl means for a database: PUBLIC may connect and create temporary tables, the owner may do everything.</summary>
    IReadOnlyList<DatabaseGrant> DefaultGrants => [new(null, ["CONNECT", "TEMPORARY"], false), new(Owner, ["CONNECT", "CREATE", "TEMPORARY"], false)];
}

using Dapper;
using Npgsql;

namespace PgDeploy.Safety;

/// <summary>The roles that own the database's objects, and what problems a restore by this runner would meet with them.</summary>
/// <param name="Roles">Every role pg_restore must act as, by name.</param>
sealed record RoleCheck(IReadOnlyList<string> Roles, IReadOnlyList<string> Problems);

/// <summary>
/// The roles a dump makes pg_restore act as: it gives each object its owner (ALTER … OWNER TO) and re-creates each role's default
/// privileges (ALTER DEFAULT PRIVILEGES FOR ROLE), and a runner that is not a superuser may do either only as a member of that role.
/// Such a runner may also give an object in a schema only to a role that may create in that schema then; pg_restore grants privileges
/// on schemas only after all owners are set, so that role must be (a member of) the schema's owner. Read from the catalogs
/// themselves, since the bootstrap superuser's objects are not in pg_shdepend, and limited to what pg_dump dumps: no system schema,
/// nothing initdb made, nothing that belongs to an extension. An extension has no owner in a dump; pg_restore creates it as the
/// runner, which for an extension that is not trusted only a superuser may.
/// </summary>
static class RestoreRoles
{
    const int NamesShown = 3;

    /// <param name="Namespace">The catalog's schema column; null for objects outside schemas, of which initdb's have oids below 16384.</param>
    /// <param name="Held">Default privileges, which a role holds rather than owns.</param>
    sealed record Kind(string Singular, string Plural, string Catalog, string Owner, string Name, string? Namespace, string Filter = "true", bool Held = false)
    {
        /// <summary>Giving it an owner needs that owner to have CREATE on its schema: true of everything in a schema but the schema.</summary>
        public bool InSchema => Namespace is not null && !Held && Catalog != "pg_namespace";

        public string Noun(long count) => count == 1 ? Singular : Plural;
    }

    static readonly Kind[] Kinds =
    [
        new("schema", "schemas", "pg_namespace", "nspowner", "quote_ident(x.nspname)", "oid"),
        new("table", "tables", "pg_class", "relowner", "x.oid::regclass::text", "relnamespace", "x.relkind IN ('r', 'p')"),
        new("foreign table", "foreign tables", "pg_class", "relowner", "x.oid::regclass::text", "relnamespace", "x.relkind = 'f'"),
        new("view", "views", "pg_class", "relowner", "x.oid::regclass::text", "relnamespace", "x.relkind = 'v'"),
        new("materialized view", "materialized views", "pg_class", "relowner", "x.oid::regclass::text", "relnamespace", "x.relkind = 'm'"),
        new("sequence", "sequences", "pg_class", "relowner", "x.oid::regclass::text", "relnamespace", "x.relkind = 'S'"),
        new("function", "functions", "pg_proc", "proowner", "x.oid::regprocedure::text", "pronamespace", "x.prokind IN ('f', 'w')"),
        new("procedure", "procedures", "pg_proc", "proowner", "x.oid::regprocedure::text", "pronamespace", "x.prokind = 'p'"),
        new("aggregate", "aggregates", "pg_proc", "proowner", "x.oid::regprocedure::text", "pronamespace", "x.prokind = 'a'"),
        // A table's row type, an array type and a multirange type come with what they belong to.
        new("type", "types", "pg_type", "typowner", "format_type(x.oid, NULL)", "typnamespace",
            "x.typtype IN ('b', 'c', 'e', 'r') AND (x.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = x.typrelid) = 'c') "
            + "AND NOT EXISTS (SELECT FROM pg_type e WHERE e.typarray = x.oid)"),
        new("domain", "domains", "pg_type", "typowner", "format_type(x.oid, NULL)", "typnamespace", "x.typtype = 'd'"),
        new("collation", "collations", "pg_collation", "collowner", "format('%I.%I', n.nspname, x.collname)", "collnamespace"),
        new("conversion", "conversions", "pg_conversion", "conowner", "format('%I.%I', n.nspname, x.conname)", "connamespace"),
        new("operator", "operators", "pg_operator", "oprowner", "x.oid::regoperator::text", "oprnamespace"),
        new("operator class", "operator classes", "pg_opclass", "opcowner", "format('%I.%I', n.nspname, x.opcname)", "opcnamespace"),
        new("operator family", "operator families", "pg_opfamily", "opfowner", "format('%I.%I', n.nspname, x.opfname)", "opfnamespace"),
        new("text search configuration", "text search configurations", "pg_ts_config", "cfgowner", "format('%I.%I', n.nspname, x.cfgname)", "cfgnamespace"),
        new("text search dictionary", "text search dictionaries", "pg_ts_dict", "dictowner", "format('%I.%I', n.nspname, x.dictname)", "dictnamespace"),
        new("statistics object", "statistics objects", "pg_statistic_ext", "stxowner", "format('%I.%I', n.nspname, x.stxname)", "stxnamespace"),
        new("foreign-data wrapper", "foreign-data wrappers", "pg_foreign_data_wrapper", "fdwowner", "quote_ident(x.fdwname)", null),
        new("foreign server", "foreign servers", "pg_foreign_server", "srvowner", "quote_ident(x.srvname)", null),
        new("event trigger", "event triggers", "pg_event_trigger", "evtowner", "quote_ident(x.evtname)", null),
        new("publication", "publications", "pg_publication", "pubowner", "quote_ident(x.pubname)", null),
        new("procedural language", "procedural languages", "pg_language", "lanowner", "quote_ident(x.lanname)", null),
        new("large object", "large objects", "pg_largeobject_metadata", "lomowner", "x.oid::text", null),
        new("default privileges", "default privileges", "pg_default_acl", "defaclrole",
            "'for ' || CASE x.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' "
            + "WHEN 'L' THEN 'large objects' END "
            + "|| CASE WHEN x.defaclnamespace = 0 THEN '' ELSE ' in schema ' || quote_ident(n.nspname) END",
            "defaclnamespace", Held: true),
    ];

    // Every object with its owner and, where the owner needs CREATE there, its schema and the schema's owner as pg_restore leaves it
    // when it sets owners: the database owner for a schema of pg_database_owner; none for public before PostgreSQL 15, where template0
    // lets everyone create in it.
    static readonly string OwnedSql =
        $"""
         WITH owned AS (
         {string.Join("\nUNION ALL\n", Kinds.Select(KindSql))})
         """;

    // One row per role and kind; pg_has_role is asked once per role, and only the first few names are kept.
    static readonly string HoldingsSql =
        $"""
         {OwnedSql}
         SELECT o.kind AS "Kind", r.rolname AS "Role", r.rolsuper AS "Superuser", pg_has_role(current_user, r.oid, 'MEMBER') AS "Member",
                count(*) AS "Count", (array_agg(o.name ORDER BY o.name))[1:{NamesShown}] AS "Names"
         FROM owned o JOIN pg_roles r ON r.oid = o.owner
         GROUP BY r.rolname, r.rolsuper, r.oid, o.kind
         ORDER BY r.rolname, o.kind
         """;

    // A superuser may own anything anywhere.
    static readonly string MisplacedSql =
        $"""
         {OwnedSql}
         SELECT o.kind AS "Kind", r.rolname AS "Role", o.schema AS "Schema", pg_get_userbyid(o.schema_owner) AS "SchemaOwner",
                count(*) AS "Count", (array_agg(o.name ORDER BY o.name))[1:{NamesShown}] AS "Names"
         FROM owned o JOIN pg_roles r ON r.oid = o.owner
         WHERE o.schema_owner IS NOT NULL AND NOT r.rolsuper AND NOT pg_has_role(o.owner, o.schema_owner, 'USAGE')
         GROUP BY r.rolname, o.schema, o.schema_owner, o.kind
         ORDER BY r.rolname, o.schema, o.kind
         """;

    // pg_dump leaves out the version, so the default one is created.
    const string UntrustedExtensionsSql =
        """
        SELECT e.extname FROM pg_extension e
        JOIN pg_available_extensions a ON a.name = e.extname
        JOIN pg_available_extension_versions v ON v.name = a.name AND v.version = a.default_version
        WHERE e.oid >= 16384 AND v.superuser AND NOT v.trusted
        ORDER BY 1
        """;

    /// <param name="database">A session on the database to restore; its catalogs are the database's own.</param>
    public static async Task<RoleCheck> CheckAsync(NpgsqlConnection database, string runner, CancellationToken cancellationToken)
    {
        var holdings = (await database.QueryAsync<Holding>(new CommandDefinition(HoldingsSql, cancellationToken: cancellationToken))).ToList();
        var problems = holdings.Where(holding => !holding.Member).GroupBy(holding => (holding.Role, holding.Superuser))
            .Select(role => Problem(runner, role.Key.Role, role.Key.Superuser, role.ToList()))
            .ToList();
        var misplaced = await database.QueryAsync<Holding>(new CommandDefinition(MisplacedSql, cancellationToken: cancellationToken));
        problems.AddRange(misplaced.GroupBy(holding => (holding.Role, holding.Schema, holding.SchemaOwner))
            .Select(group => MisplacedProblem(group.Key.Role, group.Key.Schema!, group.Key.SchemaOwner!, group.ToList())));
        var untrusted = (await database.QueryAsync<string>(new CommandDefinition(UntrustedExtensionsSql, cancellationToken: cancellationToken))).ToList();
        if (untrusted.Count > 0)
        {
            problems.Add($"pg_restore creates the extension(s) {string.Join(", ", untrusted)} as {runner}, and only a superuser may create an extension "
                         + "that is not trusted");
        }

        return new RoleCheck(holdings.Select(holding => holding.Role).Distinct().ToList(), problems);
    }

    /// <summary>Names what the role owns and holds, and how the runner can act as it or take those over.</summary>
    static string Problem(string runner, string role, bool superuser, IReadOnlyList<Holding> holdings)
    {
        var owned = holdings.Where(holding => !Kinds[holding.Kind].Held).ToList();
        var held = holdings.Where(holding => Kinds[holding.Kind].Held).ToList();
        var what = new List<string>();
        var takeOver = new List<string>();
        if (owned.Count > 0)
        {
            what.Add($"owns {Owned(owned)}");
            takeOver.Add($"make {runner} their owner (ALTER … OWNER TO {runner})");
        }

        if (held.Count > 0)
        {
            what.Add("holds default privileges " + string.Join(", ", held.Select(Shown)));
            takeOver.Add($"recreate those default privileges as {runner} and revoke {role}'s (ALTER DEFAULT PRIVILEGES FOR ROLE {role} … REVOKE …)");
        }

        // Membership in a superuser would let the runner become one, so that is not offered as a fix.
        var fix = superuser
            ? string.Join(" and ", takeOver)
            : $"GRANT {role} TO {runner}, or {string.Join(" and ", takeOver)}";
        return $"pg_restore must act as '{role}', which {string.Join(", and ", what)}, and {runner} is not a member of it: {fix}";
    }

    /// <summary>Names what the role owns in a schema it may not create in, and who could own it there instead.</summary>
    static string MisplacedProblem(string role, string schema, string schemaOwner, IReadOnlyList<Holding> holdings) =>
        $"pg_restore gives '{role}' {Owned(holdings)} in schema {schema} before it restores the grants on that schema, and until then only its "
        + $"owner '{schemaOwner}' and the members of that role may own objects there: make '{schemaOwner}' their owner (ALTER … OWNER TO {schemaOwner}) "
        + $"or move them to a schema '{role}' owns";

    /// <summary>E.g. "1 schema (ledger) and 2 tables (ledger.entries, ledger.totals)".</summary>
    static string Owned(IReadOnlyList<Holding> holdings)
    {
        var parts = holdings.Select(holding => $"{holding.Count} {Kinds[holding.Kind].Noun(holding.Count)} ({Shown(holding)})").ToList();
        return parts.Count == 1 ? parts[0] : $"{string.Join(", ", parts[..^1])} and {parts[^1]}";
    }

    static string Shown(Holding holding) => string.Join(", ", holding.Names) + (holding.Count > holding.Names.Length ? ", …" : "");

    static string KindSql(Kind kind, int position) =>
        $"SELECT {position} AS kind, x.{kind.Owner} AS owner, {kind.Name} AS name, "
        + (kind.InSchema
            ? "quote_ident(n.nspname) AS schema, CASE WHEN n.nspname = 'public' AND current_setting('server_version_num')::int < 150000 THEN NULL "
              + "WHEN pg_get_userbyid(n.nspowner) = 'pg_database_owner' THEN (SELECT datdba FROM pg_database WHERE datname = current_database()) "
              + "ELSE n.nspowner END AS schema_owner"
            : "NULL AS schema, NULL::oid AS schema_owner")
        + $" FROM {kind.Catalog} x"
        + (kind.Namespace is null ? "" : $" LEFT JOIN pg_namespace n ON n.oid = x.{kind.Namespace}")
        + $" WHERE {kind.Filter} AND "
        + (kind.Namespace is null ? "x.oid >= 16384" : "coalesce(n.nspname !~ '^pg_' AND n.nspname <> 'information_schema', true)")
        + $" AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = '{kind.Catalog}'::regclass AND d.objid = x.oid AND d.deptype = 'e')";

    // Properties, not a positional record: Dapper matches constructors by the column's type, which for an array is System.Array.
    sealed class Holding
    {
        public int Kind { get; init; }
        public string Role { get; init; } = "";
        public bool Superuser { get; init; }
        public bool Member { get; init; }
        public long Count { get; init; }
        public string[] Names { get; init; } = [];
        public string? Schema { get; init; }
        public string? SchemaOwner { get; init; }
    }
}

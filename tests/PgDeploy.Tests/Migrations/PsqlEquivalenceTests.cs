using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.Migrations;

/// <summary>
/// The runner must run a script exactly as `psql -X -v ON_ERROR_STOP=1 -1 -f file` would: the same scripts are applied by the
/// runner to one database and by psql to another, and both dumps (schema and data, without the pgdeploy schema) must be identical.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PsqlEquivalenceTests(PostgresFixture postgres)
{
    private const string Tab = "<TAB>";

    private const string Routines = """
        -- Functions whose bodies hold semicolons; nested dollar quotes; BEGIN ATOMIC bodies; a DO block; a rule.
        CREATE SCHEMA app;
        CREATE TABLE app.grades (id serial PRIMARY KEY, student text NOT NULL, score numeric(5,2), note text);

        CREATE FUNCTION app.describe(score numeric) RETURNS text
        LANGUAGE plpgsql IMMUTABLE AS $fn$
        DECLARE
            label text;
        BEGIN
            label := CASE WHEN score >= 90 THEN 'A; excellent' WHEN score >= 80 THEN 'B' ELSE 'C' END;
            RETURN label || $tag$; it's "quoted"; $$ is not the end$tag$;
        END;
        $fn$;

        CREATE FUNCTION app.double_score(score numeric) RETURNS numeric
        LANGUAGE sql IMMUTABLE
        BEGIN ATOMIC
            SELECT score * 2;
        END;

        CREATE FUNCTION app.verdict(score numeric) RETURNS text
        LANGUAGE sql IMMUTABLE
        BEGIN ATOMIC
            SELECT CASE WHEN score >= 50 THEN 'pass; well done' ELSE 'fail' END;
        END;

        CREATE PROCEDURE app.record_grade(who text, points numeric)
        LANGUAGE sql
        BEGIN ATOMIC
            INSERT INTO app.grades (student, score, note) VALUES (who, points, 'via procedure; atomic');
            UPDATE app.grades SET note = note || ' (recorded)' WHERE student = who;
        END;

        CALL app.record_grade('Procedure', 77.5);

        DO $$
        BEGIN
            FOR i IN 1..5 LOOP
                INSERT INTO app.grades (student, score, note) VALUES ('Loop ' || i, 60 + i * 8, app.describe(60 + i * 8));
            END LOOP;
            RAISE NOTICE 'inserted % rows; all fine', 5;
        END
        $$;

        CREATE TABLE app.audit (id serial PRIMARY KEY, action text NOT NULL, student text);
        CREATE RULE grades_audit AS ON INSERT TO app.grades DO ALSO (
            INSERT INTO app.audit (action, student) VALUES ('insert', NEW.student);
            INSERT INTO app.audit (action, student) VALUES ('insert; again', upper(NEW.student))
        );
        INSERT INTO app.grades (student, score, note) VALUES ('Ruled', app.double_score(44), app.verdict(88));
        """;

    private const string CopyBlocks = """
        CREATE TABLE app.imports (id int PRIMARY KEY, name text, note text, tags text);
        COPY app.imports (id, name, note, tags) FROM stdin;
        1<TAB>semi;colon<TAB>back\\slash<TAB>\N
        2<TAB>tab\there<TAB>line\nbreak<TAB>x;y
        3<TAB>'quoted'<TAB>$$ -- not sql;<TAB>\\N is text
        \.
        COPY app.imports (id, name, note, tags) FROM stdin WITH (FORMAT csv, HEADER true);
        id,name,note,tags
        4,"comma, inside","quote "" inside",
        5,semi;colon,"multi
        line; value",";"
        6,\N,back\slash,""
        \.
        SELECT count(*) AS imported FROM app.imports;
        """;

    private const string Strings = """
        CREATE TABLE app.texts (id int PRIMARY KEY, body text);
        INSERT INTO app.texts VALUES (1, 'semi;colon; -- not a comment /* nor this */');
        INSERT INTO app.texts VALUES (2, E'escaped \' quote; back\\slash\ttab');
        INSERT INTO app.texts VALUES (3, 'it''s; doubled'); -- a trailing comment; with a semicolon
        /* a block comment; /* nested; */ still a comment; */
        INSERT INTO app.texts VALUES (4, $$dollar; 'quoted'; "text"$$);
        INSERT INTO app.texts VALUES (5, $body$nested $$ inside; fine$body$);
        INSERT INTO app.texts VALUES (6, U&'\0041\00e9; unicode');
        INSERT INTO app.texts VALUES (7, E'line\nbreak;\x41');
        SELECT id, body FROM app.texts ORDER BY id;
        """;

    /// <summary>Changes the session in every way a script can; none of it may reach the next script.</summary>
    private const string SessionChanges = """
        SET search_path = app, public;
        SELECT set_config('app.marker', 'leaked', false);
        SET datestyle = 'SQL, DMY';
        SET ROLE NONE;
        CREATE TEMP TABLE scratch (x int);
        INSERT INTO scratch VALUES (1);
        PREPARE leaked_statement AS SELECT 1;
        CREATE TABLE in_search_path (id int);
        """;

    /// <summary>
    /// Records what the session looks like at the start of the next script. One known difference is folded away: a custom
    /// setting such as app.marker, once set, exists until the session ends (RESET ALL only empties it), so the runner's next
    /// script reads '' where a fresh psql session reads NULL. Its value does not leak; that is asserted separately below.
    /// </summary>
    private const string SessionObserver = """
        CREATE TABLE public.session_seen AS
        SELECT current_setting('search_path') AS search_path,
               nullif(current_setting('app.marker', true), '') AS marker,
               current_setting('datestyle') AS datestyle,
               to_regclass('pg_temp.scratch') IS NOT NULL AS sees_scratch,
               (SELECT count(*) FROM pg_prepared_statements) AS prepared_statements;
        CREATE TABLE unqualified (id int);
        """;

    [Fact]
    public async Task Scripts_applied_by_the_runner_dump_identically_to_the_same_scripts_run_by_psql()
    {
        using var migrations = MigrationFolder.CreateTemporary();
        migrations.Script("0.1", "010_routines.sql", Routines);
        migrations.Script("0.1", "020_copy_blocks.sql", CopyBlocks.Replace(Tab, "\t"));
        migrations.Script("0.1", "030_strings.sql", Strings);
        migrations.Script("0.1", "040_session_changes.sql", SessionChanges);
        migrations.Script("0.1", "050_session_observer.sql", SessionObserver);
        var byRunner = await TestDatabase.CreateAsync(postgres);
        var byPsql = await TestDatabase.CreateAsync(postgres);

        await Deployment.RunAsync(byRunner, migrations, "0.1");
        foreach (var step in migrations.Catalog().Versions.Single().Steps)
        {
            await PostgresClient.RunScriptAsync(byPsql.ConnectionString, migrations.PathOf("0.1", step.FileName));
        }

        var schema = await byPsql.DumpAsync("--schema-only");
        DumpAssert.Identical(schema, await byRunner.DumpAsync("--schema-only"), "schema dump");
        var data = await byPsql.DumpAsync("--data-only");
        DumpAssert.Identical(data, await byRunner.DumpAsync("--data-only"), "data dump");
        // The dumps hold what the scripts made, not two empty databases.
        Assert.Contains("CREATE RULE grades_audit", schema);
        Assert.Contains("BEGIN ATOMIC", schema);
        Assert.Contains("3\t'quoted'\t$$ -- not sql;\t\\\\N is text", data);
        Assert.Equal(5, (await byRunner.AppliedStepsAsync()).Count);
    }

    [Fact]
    public async Task Settings_temp_tables_and_prepared_statements_of_one_script_do_not_leak_into_the_next()
    {
        using var migrations = MigrationFolder.CreateTemporary();
        migrations.Script("0.1", "010_session_changes.sql", SessionChanges);
        migrations.Script("0.1", "020_session_observer.sql", SessionObserver);
        var database = await TestDatabase.CreateAsync(postgres);

        await Deployment.RunAsync(database, migrations, "0.1");

        var seen = Assert.Single(await database.QueryAsync<(string SearchPath, string? Marker, string DateStyle, bool SeesScratch, long PreparedStatements)>(
            "SELECT search_path, marker, datestyle, sees_scratch, prepared_statements FROM session_seen"));
        Assert.Equal("\"$user\", public", seen.SearchPath);
        Assert.Null(seen.Marker);
        Assert.Equal("ISO, MDY", seen.DateStyle);
        Assert.False(seen.SeesScratch);
        Assert.Equal(0, seen.PreparedStatements);
        Assert.Equal("public", await database.ScalarAsync<string>("SELECT relnamespace::regnamespace::text FROM pg_class WHERE relname = 'unqualified'"));
        Assert.Equal("public", await database.ScalarAsync<string>("SELECT relnamespace::regnamespace::text FROM pg_class WHERE relname = 'in_search_path'"));
    }
}

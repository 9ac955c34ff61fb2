using Migrations.V0_4;
using PgDeploy.Migrations;

namespace PgDeploy.Tests.Migrations.Support;

/// <summary>
/// The sample application's migrations that most tests start from: 0.2 creates and seeds students (a serial key),
/// 0.3 adds courses and enrolments, 0.4 adds a display name that a C# step computes and a later script makes NOT NULL.
/// </summary>
internal static class SchoolMigrations
{
    public const int StudentCount = 3000;

    public static MigrationFolder UpTo(string version)
    {
        var target = AppVersion.Parse(version);
        var folder = MigrationFolder.CreateTemporary();
        AddV02(folder);
        if (target >= new AppVersion(0, 3))
        {
            AddV03(folder);
        }

        if (target >= new AppVersion(0, 4))
        {
            AddV04(folder);
        }

        return folder;
    }

    public static void AddV02(MigrationFolder folder)
    {
        folder.Script("0.2", "010_create_students.sql", """
            -- Students and their names.
            CREATE TABLE students (
                id         serial PRIMARY KEY,
                first_name text NOT NULL,
                last_name  text NOT NULL
            );
            """);
        folder.Script("0.2", "020_seed_students.sql", $"""
            INSERT INTO students (first_name, last_name)
            SELECT 'First' || g, 'Last' || g FROM generate_series(1, {StudentCount}) AS g;
            """);
    }

    public static void AddV03(MigrationFolder folder)
    {
        folder.Script("0.3", "010_create_courses.sql", """
            CREATE TABLE courses (id serial PRIMARY KEY, title text NOT NULL UNIQUE);
            INSERT INTO courses (title) VALUES ('Algebra'), ('Biology'), ('Chemistry');
            """);
        folder.Script("0.3", "020_create_enrolments.sql", """
            CREATE TABLE enrolments (
                student_id int NOT NULL REFERENCES students,
                course_id  int NOT NULL REFERENCES courses,
                PRIMARY KEY (student_id, course_id)
            );
            INSERT INTO enrolments (student_id, course_id)
            SELECT s.id, c.id FROM students s JOIN courses c ON (s.id + c.id) % 3 = 0;
            """);
    }

    public static void AddV04(MigrationFolder folder)
    {
        folder.Script("0.4", "010_add_display_name.sql", "ALTER TABLE students ADD COLUMN display_name text;\n");
        folder.Step<FillDisplayNames>(20);
        folder.Script("0.4", "030_require_display_name.sql", """
            ALTER TABLE students ALTER COLUMN display_name SET NOT NULL;
            CREATE INDEX students_display_name_idx ON students (display_name);
            """);
    }

    /// <summary>The 0.4 scripts and steps in the order they must run.</summary>
    public static readonly string[] V04Steps = ["010_add_display_name.sql", "020_FillDisplayNames.cs", "030_require_display_name.sql"];
}

using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.EndToEnd.Support;

/// <summary>
/// The two application versions the end-to-end tests deploy, SQL only (the build compiles no C# step of the tests):
/// 0.1 creates students (a serial key, one full name) and their grades; 0.2 splits the names, adds an e-mail table and a
/// grade scale, converts grades to points, and checks itself with verify queries and row-count rules.
/// </summary>
internal static class SchoolReleases
{
    /// <summary>A name that 0.2 cannot split: a student the application enrols under it makes Verify fail for real.</summary>
    public const string SingleName = "Madonna";

    public static void WriteTo(MigrationFolder folder)
    {
        folder.Script("0.1", "010_create_students.sql", """
            CREATE TABLE students (
                id          serial PRIMARY KEY,
                full_name   text NOT NULL,
                enrolled_on date NOT NULL DEFAULT DATE '2024-09-01'
            );
            INSERT INTO students (full_name) VALUES ('Ada Lovelace'), ('Alan Turing'), ('Grace Brewster Hopper');
            """);
        folder.Script("0.1", "020_create_grades.sql", """
            CREATE TABLE grades (
                id         serial PRIMARY KEY,
                student_id int NOT NULL REFERENCES students,
                course     text NOT NULL,
                grade      int NOT NULL CHECK (grade BETWEEN 0 AND 100)
            );
            INSERT INTO grades (student_id, course, grade)
            SELECT s.id, c.course, 50 + (s.id * 7 + length(c.course)) % 50
            FROM students s CROSS JOIN (VALUES ('Algebra'), ('Biology')) AS c(course);
            """);

        folder.Script("0.2", "010_split_names.sql", """
            ALTER TABLE students ADD COLUMN first_name text, ADD COLUMN last_name text;
            UPDATE students SET first_name = split_part(full_name, ' ', 1),
                                last_name  = substr(full_name, length(split_part(full_name, ' ', 1)) + 2);
            ALTER TABLE students ALTER COLUMN first_name SET NOT NULL, ALTER COLUMN last_name SET NOT NULL, DROP COLUMN full_name;
            """);
        folder.Script("0.2", "020_student_emails.sql", """
            CREATE TABLE student_emails (
                student_id int PRIMARY KEY REFERENCES students,
                email      text NOT NULL UNIQUE
            );
            INSERT INTO student_emails (student_id, email)
            SELECT id, lower(first_name) || '.' || id || '@school.example' FROM students;
            """);
        folder.Script("0.2", "030_grade_points.sql", """
            CREATE TABLE grade_scale (letter text PRIMARY KEY, min_points numeric(3,1) NOT NULL);
            INSERT INTO grade_scale VALUES ('A', 9.0), ('B', 8.0), ('C', 7.0), ('D', 6.0), ('F', 0.0);
            ALTER TABLE grades ADD COLUMN points numeric(3,1);
            UPDATE grades SET points = grade / 10.0;
            ALTER TABLE grades ALTER COLUMN points SET NOT NULL, DROP COLUMN grade;
            """);
        folder.Script("0.2", "verify/every_student_has_a_last_name.sql", "SELECT id, first_name FROM students WHERE last_name = ''\n");
        folder.Script("0.2", "verify/points_are_on_the_scale.sql", "SELECT id, points FROM grades WHERE points NOT BETWEEN 0 AND 10\n");
        folder.Script("0.2", "verify/counts.json", """
            {
              "students": "unchanged",
              "grades": "at-least:1",
              "student_emails": "same-as:students",
              "grade_scale": "exactly:5"
            }
            """);
    }
}

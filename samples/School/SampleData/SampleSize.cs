namespace School;

/// How many rows of each table a scale asks for. Scale 1 is a mid-sized school district, about 1 GB:
/// 100k users, 5k classes, 1M enrollments, 5M activity logs.
public sealed record SampleSize(int Schools, int Admins, int Teachers, int Students, int Classes, int Enrollments, int ActivityLogs)
{
    // 20 GB; a mistyped scale should fail, not fill the disk.
    public const double MaxScale = 20;

    public int Users => Admins + Teachers + Students;

    public static SampleSize For(double scale)
    {
        if (!(scale > 0 && scale <= MaxScale))
            throw new ArgumentOutOfRangeException(nameof(scale), scale,
                $"The scale must be above 0 and at most {MaxScale}: 1 means 100k users and 5M activity logs (about 1 GB), 0.01 suits tests.");

        int Of(double count) => (int)Math.Round(count * scale);
        var schools = Math.Max(1, Of(10));
        // Every school needs an admin, a teacher and a class, or its users would have nothing to belong to.
        var users = Math.Max(3 * schools, Of(100_000));
        var admins = Math.Max(schools, (int)Math.Round(users * 0.02));
        var teachers = Math.Max(schools, (int)Math.Round(users * 0.10));
        return new SampleSize(schools, admins, teachers, users - admins - teachers, Math.Max(schools, Of(5_000)), Of(1_000_000), Of(5_000_000));
    }

    public override string ToString() =>
        $"{Schools:N0} schools, {Users:N0} users ({Admins:N0} admins, {Teachers:N0} teachers, {Students:N0} students), " +
        $"{Classes:N0} classes, up to {Enrollments:N0} enrollments, {ActivityLogs:N0} activity logs";
}

using System.Text.RegularExpressions;

namespace PgDeploy.Migrations;

/// An application version as the migrations folder names it: v0.4 holds what 0.4 needs.
public readonly partial record struct AppVersion(int Major, int Minor) : IComparable<AppVersion>
{
    public static AppVersion Parse(string text) =>
        TryParse(text, out var version)
            ? version
            : throw new FormatException($"'{text}' is not an application version: write MAJOR.MINOR, e.g. 0.4 (folders are named v0.4).");

    public static bool TryParse(string? text, out AppVersion version)
    {
        var match = text is null ? Match.Empty : VersionPattern().Match(text.Trim());
        version = match.Success ? new AppVersion(int.Parse(match.Groups[1].Value), int.Parse(match.Groups[2].Value)) : default;
        return match.Success;
    }

    public string FolderName => $"v{this}";

    public int CompareTo(AppVersion other) => (Major, Minor).CompareTo((other.Major, other.Minor));
    public static bool operator <(AppVersion left, AppVersion right) => left.CompareTo(right) < 0;
    public static bool operator >(AppVersion left, AppVersion right) => left.CompareTo(right) > 0;
    public static bool operator <=(AppVersion left, AppVersion right) => left.CompareTo(right) <= 0;
    public static bool operator >=(AppVersion left, AppVersion right) => left.CompareTo(right) >= 0;

    public override string ToString() => $"{Major}.{Minor}";

    [GeneratedRegex(@"^v?(\d+)\.(\d+)$", RegexOptions.IgnoreCase)]
    private static partial Regex VersionPattern();
}

namespace TargetEngine;

/// <summary>A normalized absolute path, combined with <c>/</c> as in NUKE: <c>RootDirectory / "migrations"</c>.</summary>
public sealed record AbsolutePath
{
    readonly string path;

    AbsolutePath(string path) => this.path = path;

    public static AbsolutePath Create(string path) =>
        Path.IsPathFullyQualified(path)
            ? new(Path.TrimEndingDirectorySeparator(Path.GetFullPath(path)))
            : throw new ArgumentException($"Path '{path}' is not absolute.", nameof(path));

    public static explicit operator AbsolutePath(string path) => Create(path);
    public static implicit operator string(AbsolutePath path) => path.path;
    public static AbsolutePath operator /(AbsolutePath left, string right) => Create(Path.Combine(left.path, right));

    public AbsolutePath? Parent => Path.GetDirectoryName(path) is { } parent ? new(parent) : null;
    public string Name => Path.GetFileName(path);
    public bool Exists() => File.Exists(path) || Directory.Exists(path);
    public override string ToString() => path;
}

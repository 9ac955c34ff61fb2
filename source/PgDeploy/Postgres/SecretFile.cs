namespace PgDeploy.Postgres;

/// <summary>Files holding a password: created 0600 from the first byte, so no other user can ever read them.</summary>
internal static class SecretFile
{
    public static void Write(string path, string secret)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(secret);
    }

    public static string Read(string path) => File.ReadAllText(path).Trim();
}

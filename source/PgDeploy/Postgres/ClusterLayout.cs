namespace PgDeploy.Postgres;

/// <summary>Where a local cluster keeps its files: everything lives under one root so deleting the root removes the cluster.</summary>
internal sealed record ClusterLayout(string Root)
{
    public string DataDirectory => Path.Combine(Root, "data");
    public string SocketDirectory => Path.Combine(Root, "run");
    public string LogFile => Path.Combine(Root, "server.log");
    public string StateFile => Path.Combine(Root, "cluster.json");
    public string PasswordFile => Path.Combine(Root, "superuser.password");
    public string InitDbPasswordFile => Path.Combine(Root, "initdb.password");
    public string PidFile => Path.Combine(DataDirectory, "postmaster.pid");
    public string ConfigFile => Path.Combine(DataDirectory, "postgresql.conf");
    private string VersionFile => Path.Combine(DataDirectory, "PG_VERSION");

    public bool IsInitialized => File.Exists(VersionFile);

    /// <summary>The major version that created the data directory; only that major's server can run it.</summary>
    public int DataMajorVersion => (int)decimal.Parse(File.ReadAllText(VersionFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    public string LogTail(int lineCount = 15) =>
        File.Exists(LogFile) ? string.Join(Environment.NewLine, File.ReadLines(LogFile).TakeLast(lineCount)) : "(no server log was written)";
}

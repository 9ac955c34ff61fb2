namespace PgDeploy.Postgres;

/// <summary>postgresql.conf lines for a local cluster: loopback only, and for throwaway test clusters speed over durability.</summary>
internal static class ServerSettings
{
    public static string Render(int port, bool temporary)
    {
        var lines = new List<string>
        {
            "# Added by PgDeploy LocalCluster.",
            "listen_addresses = '127.0.0.1'",
            $"port = {port}",
            // Relative to the data directory: never /var/run/postgresql, no socket path length limit, and the cluster survives being moved.
            "unix_socket_directories = '../run'",
        };
        if (temporary)
        {
            lines.AddRange([
                "max_connections = 150",
                "shared_buffers = '64MB'",
                "fsync = off",
                "synchronous_commit = off",
                "full_page_writes = off",
            ]);
        }

        return Environment.NewLine + string.Join(Environment.NewLine, lines) + Environment.NewLine;
    }
}

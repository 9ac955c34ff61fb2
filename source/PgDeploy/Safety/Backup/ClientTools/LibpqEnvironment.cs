using Npgsql;

namespace PgDeploy.Safety;

/// <summary>
/// A connection as the environment variables libpq reads, for pg_dump and pg_restore. A process's arguments are readable by
/// every local user (ps, /proc/&lt;pid&gt;/cmdline); its environment only by the same user and root, so the password goes here.
/// </summary>
sealed class LibpqEnvironment
{
    // Every connection variable libpq knows is either set from the connection string or removed, so one inherited from the
    // runner's own environment (PGSERVICE, PGHOSTADDR, PGPASSFILE...) cannot send the tool to another server or user.
    static readonly string[] ConnectionVariables =
    [
        "PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD", "PGPASSFILE", "PGSERVICE", "PGSERVICEFILE",
        "PGOPTIONS", "PGAPPNAME", "PGSSLMODE", "PGREQUIRESSL", "PGSSLCERT", "PGSSLKEY", "PGSSLROOTCERT", "PGSSLCRL", "PGSSLCRLDIR",
        "PGSSLSNI", "PGSSLMINPROTOCOLVERSION", "PGSSLMAXPROTOCOLVERSION", "PGGSSENCMODE", "PGKRBSRVNAME", "PGCONNECT_TIMEOUT",
        "PGTARGETSESSIONATTRS", "PGLOADBALANCEHOSTS", "PGCHANNELBINDING", "PGREQUIREAUTH", "PGREQUIREPEER",
    ];

    readonly string? password;

    LibpqEnvironment(IReadOnlyDictionary<string, string?> variables, string database, string? password)
    {
        Variables = variables;
        Database = database;
        this.password = password;
    }

    /// <summary>Variable name to value; a null value removes the variable from the child's environment.</summary>
    public IReadOnlyDictionary<string, string?> Variables { get; }

    public string Database { get; }

    /// <param name="database">Another database on the same server, e.g. the new database a restore fills.</param>
    public static LibpqEnvironment From(string connectionString, string applicationName, string? database = null)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        database ??= builder.Database ?? throw new DeploymentException(
            "The connection string names no database. Add it (postgres://user:password@host:5432/database); nothing was changed.");
        var (hosts, ports) = HostsAndPorts(builder);
        var variables = ConnectionVariables.ToDictionary(name => name, string? (_) => null);
        variables["PGHOST"] = hosts;
        variables["PGPORT"] = ports;
        variables["PGDATABASE"] = database;
        variables["PGUSER"] = builder.Username;
        variables["PGPASSWORD"] = string.IsNullOrEmpty(builder.Password) ? null : builder.Password;
        variables["PGPASSFILE"] = builder.Passfile;
        variables["PGOPTIONS"] = builder.Options;
        variables["PGAPPNAME"] = applicationName;
        variables["PGSSLMODE"] = builder.SslMode switch
        {
            SslMode.Disable => "disable",
            SslMode.Allow => "allow",
            SslMode.Prefer => "prefer",
            SslMode.Require => "require",
            SslMode.VerifyCA => "verify-ca",
            SslMode.VerifyFull => "verify-full",
            _ => null,
        };
        variables["PGSSLROOTCERT"] = builder.RootCertificate;
        variables["PGSSLCERT"] = builder.SslCertificate;
        variables["PGSSLKEY"] = builder.SslKey;
        variables["PGKRBSRVNAME"] = builder.KerberosServiceName;
        // Npgsql gives up connecting after Timeout seconds (15 unless set); libpq would wait forever.
        variables["PGCONNECT_TIMEOUT"] = builder.Timeout > 0 ? builder.Timeout.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        variables["PGTARGETSESSIONATTRS"] = builder.TargetSessionAttributes?.ToLowerInvariant() switch
        {
            null => null,
            "readwrite" => "read-write",
            "readonly" => "read-only",
            "preferstandby" => "prefer-standby",
            var other => other,
        };
        return new LibpqEnvironment(variables, database, variables["PGPASSWORD"]);
    }

    public string Redact(string text) => PasswordRedaction.Redact(text, password);

    // Npgsql lists several hosts as "a:5432,b,[::1]:5433" with a shared default port; libpq wants PGHOST=a,b,::1 and PGPORT=5432,5432,5433.
    static (string Hosts, string Ports) HostsAndPorts(NpgsqlConnectionStringBuilder builder)
    {
        var endpoints = (builder.Host ?? "localhost").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(endpoint => SplitEndpoint(endpoint, builder.Port))
            .ToList();
        return (string.Join(',', endpoints.Select(endpoint => endpoint.Host)), string.Join(',', endpoints.Select(endpoint => endpoint.Port)));
    }

    static (string Host, int Port) SplitEndpoint(string endpoint, int defaultPort)
    {
        // A Unix socket directory is a path and never carries a port; an IPv6 literal's colons are inside brackets.
        if (endpoint.StartsWith('/'))
        {
            return (endpoint, defaultPort);
        }

        var colon = endpoint.LastIndexOf(':');
        var bracketed = endpoint.StartsWith('[');
        if (colon > endpoint.LastIndexOf(']') && (bracketed || endpoint.IndexOf(':') == colon)
            && int.TryParse(endpoint[(colon + 1)..], out var port))
        {
            return (endpoint[..colon].Trim('[', ']'), port);
        }

        return (endpoint.Trim('[', ']'), defaultPort);
    }
}

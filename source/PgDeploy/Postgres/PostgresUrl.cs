using Npgsql;

namespace PgDeploy.Postgres;

/// <summary>
/// Accepts either a libpq-style URL (postgres://user:password@host:port/database?sslmode=require) or an Npgsql keyword
/// string, and returns an Npgsql connection string. Errors never quote the input: any fragment of it may be part of a password.
/// </summary>
public static class PostgresUrl
{
    private static readonly string[] Schemes = ["postgres://", "postgresql://"];

    private static readonly Dictionary<string, string> LibpqToNpgsql = new(StringComparer.OrdinalIgnoreCase)
    {
        ["user"] = "Username",
        ["password"] = "Password",
        ["dbname"] = "Database",
        ["host"] = "Host",
        ["port"] = "Port",
        ["sslmode"] = "SSL Mode",
        ["sslrootcert"] = "Root Certificate",
        ["sslcert"] = "SSL Certificate",
        ["sslkey"] = "SSL Key",
        ["sslpassword"] = "SSL Password",
        ["application_name"] = "Application Name",
        ["connect_timeout"] = "Timeout",
        ["options"] = "Options",
        ["target_session_attrs"] = "Target Session Attributes",
    };

    public static bool IsUrl(string value) =>
        Schemes.Any(scheme => value.TrimStart().StartsWith(scheme, StringComparison.OrdinalIgnoreCase));

    /// <param name="value">A postgres:// or postgresql:// URL, or an Npgsql keyword connection string.</param>
    /// <param name="sourceName">What the value is called in errors, e.g. "TEST_DATABASE_URL".</param>
    public static string ToNpgsqlConnectionString(string value, string sourceName = "connection string")
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw Invalid(sourceName, "it is empty");
        }

        if (IsUrl(value))
        {
            return FromUrl(value.Trim(), sourceName);
        }

        if (value.Contains("://", StringComparison.Ordinal))
        {
            throw Invalid(sourceName, "its URL scheme is not postgres:// or postgresql://");
        }

        try
        {
            return new NpgsqlConnectionStringBuilder(value).ConnectionString;
        }
        catch (Exception exception) when (exception is ArgumentException or FormatException or InvalidCastException)
        {
            throw Invalid(sourceName, "it is neither a postgres:// URL nor a valid Npgsql connection string (Key=Value pairs separated by ';', values containing ';' in quotes)");
        }
    }

    private static string FromUrl(string url, string sourceName)
    {
        var rest = url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var (beforeQuery, query) = SplitOnce(rest, '?');
        var (authority, path) = SplitOnce(beforeQuery, '/');
        var at = authority.LastIndexOf('@');
        var hosts = at < 0 ? authority : authority[(at + 1)..];
        var builder = new NpgsqlConnectionStringBuilder();

        if (at >= 0)
        {
            var (user, password) = SplitOnce(authority[..at], ':');
            builder.Username = Uri.UnescapeDataString(user);
            if (password is not null)
            {
                builder.Password = Uri.UnescapeDataString(password);
            }
        }

        if (hosts.Length == 0)
        {
            throw Invalid(sourceName, "it names no host");
        }

        var endpoints = hosts.Split(',').Select(endpoint => ParseEndpoint(endpoint, sourceName)).ToList();
        if (endpoints.Count == 1)
        {
            builder.Host = endpoints[0].Host;
            if (endpoints[0].Port is { } port)
            {
                builder.Port = port;
            }
        }
        else
        {
            builder.Host = string.Join(',', endpoints.Select(endpoint => endpoint.Port is { } port ? $"{endpoint.Host}:{port}" : endpoint.Host));
        }

        if (!string.IsNullOrEmpty(path))
        {
            builder.Database = Uri.UnescapeDataString(path);
        }

        foreach (var parameter in (query ?? "").Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            ApplyParameter(builder, parameter, sourceName);
        }

        return builder.ConnectionString;
    }

    private static (string Host, int? Port) ParseEndpoint(string endpoint, string sourceName)
    {
        // IPv6 literals are bracketed ([::1]:5432), so only a colon after the closing bracket starts a port.
        var portColon = endpoint.LastIndexOf(':');
        if (portColon < endpoint.LastIndexOf(']'))
        {
            portColon = -1;
        }

        var host = Uri.UnescapeDataString(portColon < 0 ? endpoint : endpoint[..portColon]).Trim('[', ']');
        if (host.Length == 0)
        {
            throw Invalid(sourceName, "it names an empty host");
        }

        if (portColon < 0)
        {
            return (host, null);
        }

        return int.TryParse(endpoint[(portColon + 1)..], out var port) && port is > 0 and <= 65535
            ? (host, port)
            : throw Invalid(sourceName, "its port is not a number from 1 to 65535");
    }

    private static void ApplyParameter(NpgsqlConnectionStringBuilder builder, string parameter, string sourceName)
    {
        var (rawKey, rawValue) = SplitOnce(parameter, '=');
        var key = Uri.UnescapeDataString(rawKey);
        var value = Uri.UnescapeDataString(rawValue ?? "");
        var isLibpq = LibpqToNpgsql.TryGetValue(key, out var npgsqlKey);
        if (isLibpq && npgsqlKey == "SSL Mode")
        {
            // libpq spells modes verify-full and verify-ca; Npgsql's enum has VerifyFull and VerifyCA.
            value = value.Replace("-", "", StringComparison.Ordinal);
        }

        try
        {
            builder[isLibpq ? npgsqlKey! : key] = value;
        }
        catch (Exception exception) when (exception is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            throw Invalid(sourceName,
                $"one of its query parameters is not a libpq parameter ({string.Join(", ", LibpqToNpgsql.Keys)}) or Npgsql setting, or has an invalid value");
        }
    }

    private static (string Before, string? After) SplitOnce(string text, char separator)
    {
        var index = text.IndexOf(separator);
        return index < 0 ? (text, null) : (text[..index], text[(index + 1)..]);
    }

    private static FormatException Invalid(string sourceName, string reason) => new(
        $"The {sourceName} cannot be used: {reason}. Give a URL like postgres://user:password@host:5432/database?sslmode=require, "
        + "with special characters in the user and password percent-encoded (@ as %40, : as %3A, / as %2F, ? as %3F, % as %25), "
        + "or an Npgsql connection string like Host=host;Port=5432;Username=user;Password=password;Database=database.");
}

using Npgsql;
using PgDeploy.Postgres;

namespace PgDeploy.Tests.Postgres;

public sealed class PostgresUrlTests
{
    private const string Password = "Sup3r-Secret";

    [Fact]
    public void Decodes_percent_encoded_credentials_and_maps_libpq_parameters()
    {
        var converted = PostgresUrl.ToNpgsqlConnectionString(
            "postgres://deploy%40ops:p%40ss%3Aw%2Fo%25rd%3F@db.example.com:6543/orders%20db?sslmode=verify-full&application_name=pgdeploy");

        var builder = new NpgsqlConnectionStringBuilder(converted);
        Assert.Equal("db.example.com", builder.Host);
        Assert.Equal(6543, builder.Port);
        Assert.Equal("deploy@ops", builder.Username);
        Assert.Equal("p@ss:w/o%rd?", builder.Password);
        Assert.Equal("orders db", builder.Database);
        Assert.Equal(SslMode.VerifyFull, builder.SslMode);
        Assert.Equal("pgdeploy", builder.ApplicationName);
    }

    [Theory]
    [InlineData("postgresql://app@localhost/app", "localhost", 5432, null)]
    [InlineData("postgres://app:pw@[::1]:5433/app", "::1", 5433, "pw")]
    [InlineData("Host=localhost;Port=5433;Username=app;Password=pw;Database=app", "localhost", 5433, "pw")]
    public void Accepts_url_forms_and_npgsql_keyword_strings(string value, string host, int port, string? password)
    {
        var builder = new NpgsqlConnectionStringBuilder(PostgresUrl.ToNpgsqlConnectionString(value));

        Assert.Equal((host, port, password, "app", "app"), (builder.Host, builder.Port, builder.Password, builder.Username, builder.Database));
    }

    [Fact]
    public void Keeps_every_host_of_a_multi_host_url()
    {
        var builder = new NpgsqlConnectionStringBuilder(
            PostgresUrl.ToNpgsqlConnectionString("postgres://app:pw@primary:5432,standby:5433/app?target_session_attrs=read-write"));

        Assert.Equal("primary:5432,standby:5433", builder.Host);
        Assert.Equal("read-write", builder.TargetSessionAttributes);
    }

    [Theory]
    [InlineData($"postgres://admin:{Password}@db.example.com:notaport/app", "port")]
    [InlineData($"postgres://admin:{Password}@/app", "no host")]
    [InlineData("postgres://admin:Sup3r/Secret@db.example.com/app", "port")]
    [InlineData($"postgres://admin:{Password}@db.example.com/app?sslmode=sometimes", "query parameters")]
    [InlineData($"mysql://admin:{Password}@db.example.com/app", "scheme")]
    [InlineData($"Host=db.example.com;Password={Password};Sup3r", "Npgsql connection string")]
    public void Explains_a_malformed_value_without_revealing_the_password(string value, string reason)
    {
        var failure = Assert.Throws<FormatException>(() => PostgresUrl.ToNpgsqlConnectionString(value, "TEST_DATABASE_URL"));

        Assert.Contains("TEST_DATABASE_URL", failure.Message);
        Assert.Contains(reason, failure.Message);
        Assert.DoesNotContain("Sup3r", failure.Message);
        Assert.DoesNotContain("Secret", failure.Message);
        Assert.Null(failure.InnerException);
    }
}

using Npgsql;
using SchoolApi;
using SchoolApi.Queries;

// Usage: dotnet SchoolApi.dll --app-version 0.3|0.4 [--urls http://127.0.0.1:5080], with SCHOOL_DB set to an
// Npgsql connection string for the application role. Exit codes: 2 bad arguments, 3 the database is at another
// version, 4 the database cannot be used.
const int UsageExitCode = 2;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders().AddSimpleConsole(options =>
{
    options.SingleLine = true;
    options.TimestampFormat = "yyyy-MM-dd HH:mm:ss ";
});
// Requests are not logged: nothing about a login (email, password) may reach the log.
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

var requestedVersion = builder.Configuration["app-version"] ?? Environment.GetEnvironmentVariable("SCHOOL_APP_VERSION");
var appVersion = Version.TryParse(requestedVersion, out var parsed) ? parsed.ToString() : requestedVersion;
Func<NpgsqlDataSource, ISchoolQueries>? queriesFor = appVersion switch
{
    "0.3" => database => new V03Queries(database),
    "0.4" => database => new V04Queries(database),
    _ => null,
};
if (queriesFor is null || appVersion is null)
{
    Console.Error.WriteLine($"Which build of the school API is this? Pass --app-version 0.3 or 0.4 (or set SCHOOL_APP_VERSION), not '{requestedVersion}'.");
    return UsageExitCode;
}

NpgsqlConnectionStringBuilder connectionString;
try
{
    connectionString = new NpgsqlConnectionStringBuilder(Environment.GetEnvironmentVariable("SCHOOL_DB") ?? "");
}
catch (ArgumentException)
{
    Console.Error.WriteLine("SCHOOL_DB is not an Npgsql connection string (Host=...;Database=...;Username=...;Password=...).");
    return UsageExitCode;
}

if (string.IsNullOrEmpty(connectionString.Host))
{
    Console.Error.WriteLine("Set SCHOOL_DB to the school database's Npgsql connection string, as the application role (Host=...;Database=...;Username=...;Password=...).");
    return UsageExitCode;
}

// Named, so that the deployment's fence and pg_stat_activity show whose sessions these are.
connectionString.ApplicationName ??= "school-api";
await using var database = NpgsqlDataSource.Create(connectionString);

// The reason to revert the code after a rollback: a build runs only against its own version of the schema.
if (await DatabaseVersion.RefusalAsync(database, appVersion, CancellationToken.None) is { } refusal)
{
    Console.Error.WriteLine(refusal.Message);
    return refusal.ExitCode;
}

builder.Services.AddSingleton(database);
builder.Services.AddSingleton(queriesFor(database));
var app = builder.Build();
app.MapSchoolEndpoints(appVersion);
app.Logger.LogInformation("The {AppVersion} build of the school API, against a database at {DatabaseVersion}", appVersion, appVersion);
await app.RunAsync();
return 0;

using Npgsql;
using SchoolApi.Queries;

namespace SchoolApi;

public static class Endpoints
{
    const int DefaultLimit = 20;
    const int MaxLimit = 200;

    public static void MapSchoolEndpoints(this WebApplication app, string appVersion)
    {
        app.MapGet("/health", async (NpgsqlDataSource database, ILoggerFactory loggers, CancellationToken cancellationToken) =>
        {
            string? databaseVersion;
            try
            {
                databaseVersion = await DatabaseVersion.ReadAsync(database, cancellationToken);
            }
            catch (NpgsqlException exception)
            {
                loggers.CreateLogger("SchoolApi.Health").LogWarning("The database cannot be reached: {Error}", exception.Message);
                return Results.Json(new Health("unavailable", appVersion, null), statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            // Deployed under a running API: this build no longer matches the schema.
            return databaseVersion == appVersion
                ? Results.Ok(new Health("ok", appVersion, databaseVersion))
                : Results.Json(new Health("wrong-database-version", appVersion, databaseVersion), statusCode: StatusCodes.Status503ServiceUnavailable);
        });

        app.MapPost("/login", async (LoginRequest request, ISchoolQueries queries, CancellationToken cancellationToken) =>
        {
            var login = request.Email ?? request.Username;
            if (string.IsNullOrWhiteSpace(login) || string.IsNullOrEmpty(request.Password))
                return Results.BadRequest(new Error("Send {\"email\": \"...\", \"password\": \"...\"}."));
            var user = await queries.LoginAsync(login.Trim(), request.Password, cancellationToken);
            return user is null ? Results.Unauthorized() : Results.Ok(user);
        });

        app.MapGet("/classes", async (int? limit, ISchoolQueries queries, CancellationToken cancellationToken) =>
            limit is < 1 or > MaxLimit
                ? Results.BadRequest(new Error($"limit must be between 1 and {MaxLimit}."))
                : Results.Ok(await queries.ListClassesAsync(limit ?? DefaultLimit, cancellationToken)));

        app.MapGet("/classes/{id:int}", async (int id, ISchoolQueries queries, CancellationToken cancellationToken) =>
            await queries.GetClassAsync(id, cancellationToken) is { } details ? Results.Ok(details) : Results.NotFound());

        // The v0.4 feature: in the v0.3 build the queries have no assignments, so these answer 404.
        app.MapGet("/classes/{id:int}/assignments", async (int id, ISchoolQueries queries, CancellationToken cancellationToken) =>
            await queries.ListAssignmentsAsync(id, cancellationToken) is { } assignments ? Results.Ok(assignments) : Results.NotFound());

        app.MapPost("/classes/{id:int}/assignments", async (int id, NewAssignment request, ISchoolQueries queries, CancellationToken cancellationToken) =>
        {
            if (string.IsNullOrWhiteSpace(request.Title) || request.DueAt is not { } dueAt)
                return Results.BadRequest(new Error("Send {\"title\": \"...\", \"dueAt\": \"2025-06-01T12:00:00Z\"}: both are required."));
            var assignment = await queries.CreateAssignmentAsync(id, request.Title.Trim(), dueAt, cancellationToken);
            return assignment is null ? Results.NotFound() : Results.Created($"/classes/{id}/assignments", assignment);
        });
    }

    sealed record Health(string Status, string AppVersion, string? Database);

    sealed record Error(string Message);

    sealed record LoginRequest(string? Email, string? Username, string? Password);

    sealed record NewAssignment(string? Title, DateTimeOffset? DueAt);
}

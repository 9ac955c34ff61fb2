using Dapper;
using Npgsql;
using PgDeploy.Tests.Fixtures;

namespace School.Tests;

[Collection(PostgresCollection.Name)]
public sealed class SampleDataTests(PostgresFixture postgres)
{
    [Fact]
    public async Task The_same_seed_gives_the_same_dump_and_another_seed_another()
    {
        var first = await DumpOfSampleAsync(seed: 42);
        var again = await DumpOfSampleAsync(seed: 42);
        var other = await DumpOfSampleAsync(seed: 43);

        Assert.True(first == again, $"Two samples with seed 42 differ, first at line {FirstDifference(first, again)}.");
        Assert.NotEqual(first, other);
    }

    [Fact]
    public async Task A_sample_has_the_rows_its_scale_asks_for()
    {
        var connectionString = await SchoolDatabase.CreateAtV03Async(postgres);
        var size = SampleSize.For(0.01);

        var report = await SampleData.GenerateAsync(connectionString, 0.01, seed: 1);

        await using var connection = new NpgsqlConnection(connectionString);
        var roles = (await connection.QueryAsync<(string Role, long Users)>("SELECT role, count(*) FROM users GROUP BY role")).ToDictionary();
        Assert.Equal(new Dictionary<string, long> { ["admin"] = size.Admins, ["teacher"] = size.Teachers, ["student"] = size.Students }, roles);
        Assert.Equal(size.Classes, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM classes"));
        Assert.Equal(size.ActivityLogs, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM activity_logs"));
        // A class drawn twice for a student counts once, so enrollments fall a little short of the target.
        var enrollments = await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM enrollments");
        Assert.InRange(enrollments, size.Enrollments * 8 / 10, size.Enrollments);
        Assert.Equal(enrollments, report.RowsOf("enrollments"));
    }

    [Fact]
    public async Task Every_user_has_the_password_that_PlaintextPassword_derives()
    {
        var connectionString = await SchoolDatabase.CreateAtV03Async(postgres);
        await SampleData.GenerateAsync(connectionString, 0.001, seed: 5);

        await using var connection = new NpgsqlConnection(connectionString);
        foreach (var (id, password) in await connection.QueryAsync<(int, string)>("SELECT id, password FROM users"))
            Assert.Equal(SampleData.PlaintextPassword(id, 5), password);
    }

    [Fact]
    public async Task A_database_that_already_has_rows_is_refused()
    {
        var connectionString = await SchoolDatabase.CreateAtV03Async(postgres);
        await SampleData.GenerateAsync(connectionString, 0.001, seed: 1);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => SampleData.GenerateAsync(connectionString, 0.001, seed: 1));

        Assert.Contains("already has rows", error.Message);
    }

    [Fact]
    public async Task A_database_without_the_v03_schema_is_refused()
    {
        var connectionString = await postgres.CreateDatabaseAsync();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => SampleData.GenerateAsync(connectionString, 0.001, seed: 1));

        Assert.Contains("--version 0.3", error.Message);
    }

    [Fact]
    public void Plaintext_passwords_depend_on_the_user_and_the_seed_only()
    {
        Assert.Equal(SampleData.PlaintextPassword(17, 42), SampleData.PlaintextPassword(17, 42));
        Assert.NotEqual(SampleData.PlaintextPassword(17, 42), SampleData.PlaintextPassword(18, 42));
        Assert.NotEqual(SampleData.PlaintextPassword(17, 42), SampleData.PlaintextPassword(17, 43));
    }

    [Fact]
    public void Scale_1_is_a_district_of_100k_users_and_5M_activity_logs()
    {
        var size = SampleSize.For(1);

        Assert.Equal((100_000, 2_000, 10_000), (size.Users, size.Admins, size.Teachers));
        Assert.Equal((5_000, 1_000_000, 5_000_000), (size.Classes, size.Enrollments, size.ActivityLogs));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(double.NaN)]
    [InlineData(SampleSize.MaxScale + 1)]
    public void A_scale_out_of_range_is_refused(double scale) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => SampleSize.For(scale));

    async Task<string> DumpOfSampleAsync(int seed)
    {
        var connectionString = await SchoolDatabase.CreateAtV03Async(postgres);
        await SampleData.GenerateAsync(connectionString, 0.01, seed);
        return await DataDump.OfPublicSchemaAsync(connectionString);
    }

    static int FirstDifference(string left, string right) =>
        left.Split('\n').Zip(right.Split('\n')).TakeWhile(pair => pair.First == pair.Second).Count() + 1;
}

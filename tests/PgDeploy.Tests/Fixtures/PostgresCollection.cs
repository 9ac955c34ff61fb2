namespace PgDeploy.Tests.Fixtures;

/// <summary>Test classes marked [Collection(PostgresCollection.Name)] share one PostgreSQL server.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}

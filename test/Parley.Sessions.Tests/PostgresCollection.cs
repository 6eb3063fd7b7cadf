using Parley.Testing;

namespace Parley.Sessions.Tests;

/// <summary>One throwaway PostgreSQL cluster shared by the classes of this collection; each uses its own database.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}

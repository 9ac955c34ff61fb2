namespace PgDeploy.Tests.Fixtures;

/// <summary>A fact about running as root (where PostgreSQL must run as another OS user); skipped for other users.</summary>
public sealed class RootOnlyFactAttribute : FactAttribute
{
    public RootOnlyFactAttribute()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Skip = "Only meaningful when the tests run as root.";
        }
    }
}

using System.Text;
using PgDeploy.Safety;

namespace PgDeploy.Tests.Safety.Restore;

public sealed class RestoreNamesTests
{
    [Fact]
    public void Names_the_restored_and_the_failed_database_after_the_original_and_the_run()
    {
        Assert.Equal("school__restore_20261124T101010Z-ab12", RestoreNames.Restoring("school", "20261124T101010Z-ab12"));
        Assert.Equal("school__failed_20261124T101010Z-ab12", RestoreNames.Failed("school", "20261124T101010Z-ab12"));
    }

    [Fact]
    public void Shortens_a_long_database_name_so_the_unique_suffix_survives_the_63_byte_limit()
    {
        var database = string.Concat(Enumerable.Repeat("é", 40));

        var name = RestoreNames.Restoring(database, "20261124T101010Z-ab12");

        Assert.EndsWith("__restore_20261124T101010Z-ab12", name);
        Assert.True(Encoding.UTF8.GetByteCount(name) <= 63, name);
        Assert.StartsWith("ééé", name);
    }
}

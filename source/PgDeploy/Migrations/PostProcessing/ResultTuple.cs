using System.Runtime.CompilerServices;

namespace PgDeploy.Migrations.PostProcessing;

/// What Compute returns must be a value tuple of the key and one value per column.
static class ResultTuple
{
    public static ITuple Of<TResult>(TResult result, string transform, IReadOnlyList<string> columns)
    {
        var tuple = result as ITuple ?? throw new InvalidOperationException(
            $"{transform}: Compute must return a value tuple (key, {string.Join(", ", columns)}), not {typeof(TResult).Name}.");
        if (tuple.Length != columns.Count + 1)
            throw new InvalidOperationException(
                $"{transform}: Compute returned {tuple.Length} values, but the key and the columns {string.Join(", ", columns)} need {columns.Count + 1}.");
        return tuple;
    }
}

namespace PgDeploy.Migrations.Scripts;

/// <summary>Finds the 1-based line of a position and the end of its line; only \n ends a line, so CRLF counts once.</summary>
internal sealed class LineMap
{
    readonly string text;
    readonly List<int> lineStarts = [0];

    public LineMap(string text)
    {
        this.text = text;
        for (var i = text.IndexOf('\n'); i >= 0; i = text.IndexOf('\n', i + 1))
        {
            lineStarts.Add(i + 1);
        }
    }

    public int LineOf(int position)
    {
        var index = lineStarts.BinarySearch(position);
        return index >= 0 ? index + 1 : ~index;
    }

    /// <summary>The position of the \n that ends the line holding <paramref name="position"/>, or the text's length on the last line.</summary>
    public int EndOfLine(int position)
    {
        var newline = text.IndexOf('\n', position);
        return newline < 0 ? text.Length : newline;
    }
}

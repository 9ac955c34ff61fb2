using System.Text;

namespace TargetEngine.Output;

/// <summary><c>--plan</c>: the plan as numbered text, and as a Mermaid flowchart in <c>.nuke/temp/execution-plan.html</c>.</summary>
internal static class PlanWriter
{
    public static string Text(IReadOnlyList<ExecutableTarget> plan)
    {
        var builder = new StringBuilder($"Execution plan for {string.Join(", ", plan.Where(x => x.Invoked))}:\n\n");
        var width = plan.Max(x => x.Name.Length) + 2;
        foreach (var (target, number) in plan.Select((x, i) => (x, i + 1)))
        {
            var details = Details(target).ToList();
            builder.Append($"  {number,2}. {(details.Count > 0 ? target.Name.PadRight(width) + string.Join("; ", details) : target.Name)}\n");
        }

        return builder.ToString();
    }

    public static string Html(IReadOnlyList<ExecutableTarget> plan)
    {
        var ids = plan.Select((x, i) => (x, i)).ToDictionary(x => x.x, x => $"t{x.i + 1}");
        var graph = new StringBuilder("flowchart TD\n");
        foreach (var (target, id) in ids)
        {
            graph.Append($"  {id}[\"{id[1..]}. {target.Name}\"]\n");
            void Edges(IEnumerable<ExecutableTarget> sources, string arrow) =>
                sources.Where(ids.ContainsKey).ToList().ForEach(x => graph.Append($"  {ids[x]} {arrow} {id}\n"));
            Edges(target.ExecutionDependencies, "-->");
            Edges(target.OrderDependencies, "-.->");
            Edges(target.TriggerDependencies, "==>");
            Edges(target.FailureDependencies, "==>|on failure|");
            if (target.Status == TargetStatus.Skipped)
                graph.Append($"  class {id} skipped\n");
        }

        return $$"""
            <!DOCTYPE html>
            <html>
            <head><meta charset="utf-8"><title>Execution plan</title></head>
            <body>
            <pre class="mermaid">
            {{graph}}  classDef skipped stroke-dasharray: 5 5, color: #888
            </pre>
            <script type="module">
              import mermaid from "https://cdn.jsdelivr.net/npm/mermaid@11/dist/mermaid.esm.min.mjs";
              mermaid.initialize({ startOnLoad: true });
            </script>
            </body>
            </html>
            """;
    }

    static IEnumerable<string> Details(ExecutableTarget target)
    {
        string? Relation(string label, IEnumerable<ExecutableTarget> targets) =>
            targets.Where(x => x.InPlan).ToList() is { Count: > 0 } related ? $"{label} {string.Join(", ", related)}" : null;

        return new[]
            {
                Relation("depends on", target.ExecutionDependencies),
                Relation("after", target.OrderDependencies),
                Relation("triggered by", target.TriggerDependencies),
                Relation("triggered by failure of", target.FailureDependencies),
            }
            .OfType<string>()
            .Concat(target.Definition.StaticConditions.Select(x => $"OnlyWhen: {x.Text}"))
            .Concat(target.Notes);
    }
}

using System.Linq.Expressions;
using System.Reflection;

namespace TargetEngine.Parameters;

/// <summary>A component's parameter is a getter-only interface property: its value is kept by the build, under this key.</summary>
internal static class ComponentParameter
{
    public static (Type, string) Key(MemberInfo member) => (member.DeclaringType!, member.Name);

    public static (Type, string) Key(LambdaExpression parameter) =>
        Key(Unwrap(parameter.Body) is MemberExpression { Member: PropertyInfo property } ? property
            : throw new ArgumentException($"'{parameter}' must read a parameter property, like () => TargetEnv."));

    /// <summary>The component interfaces of a build type, in the runtime's order (as declared, each followed by those it derives from).</summary>
    public static IReadOnlyList<Type> Components(Type buildType) =>
        [.. buildType.GetInterfaces().Where(x => x != typeof(IBuild) && typeof(IBuild).IsAssignableFrom(x))];

    static Expression Unwrap(Expression expression) => expression is UnaryExpression { NodeType: ExpressionType.Convert } convert ? Unwrap(convert.Operand) : expression;
}

using System.Reflection;
using System.Reflection.Emit;

namespace Tally.Tests.Architecture;

/// <summary>
/// Which folder (namespace under a root, <c>Tally.Workflow</c> → <c>Workflow</c>) of an assembly uses which other, read
/// from the compiled types: base types, interfaces, attributes, fields, signatures, locals and every type, method and field
/// token in the method bodies' IL (lambdas and async state machines are nested types, so they count for their declaring
/// type). Constants and <c>nameof</c> are compiled away and cannot be seen; everything else a folder uses can.
/// </summary>
internal static class FolderDependencies
{
    /// <summary>The folder of a type: "" for the root namespace itself, null for types outside the root (compiler-made, global).</summary>
    public static string? FolderOf(Type type, string root)
    {
        while (type.DeclaringType is { } outer) type = outer;
        var ns = type.Namespace;
        if (ns == root) return "";
        return ns is not null && ns.StartsWith(root + ".", StringComparison.Ordinal) ? ns[(root.Length + 1)..].Split('.')[0] : null;
    }

    /// <summary>Every use of a type of another folder of <paramref name="assembly"/>: (user folder, used folder, where).</summary>
    public static IReadOnlyList<(string From, string To, string Where)> Find(Assembly assembly, string root)
    {
        var found = new List<(string, string, string)>();
        foreach (var type in assembly.GetTypes())
        {
            if (FolderOf(type, root) is not { } from) continue;
            foreach (var (used, where) in Uses(type))
            {
                if (used.Assembly == assembly && FolderOf(used, root) is { } to && to != from) found.Add((from, to, $"{type.FullName} {where} uses {used.FullName}"));
            }
        }
        return found;
    }

    private const BindingFlags Declared = BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;

    private static IEnumerable<(Type Used, string Where)> Uses(Type type)
    {
        var direct = new List<(Type, string)>();
        if (type.BaseType is { } b) direct.Add((b, "base"));
        direct.AddRange(type.GetInterfaces().Select(i => (i, "interface")));
        direct.AddRange(Attributes(type.CustomAttributes).Select(a => (a, "attribute")));
        foreach (var field in type.GetFields(Declared))
        {
            direct.Add((field.FieldType, field.Name));
            direct.AddRange(Attributes(field.CustomAttributes).Select(a => (a, field.Name)));
        }
        foreach (var property in type.GetProperties(Declared))
        {
            direct.Add((property.PropertyType, property.Name));
            direct.AddRange(Attributes(property.CustomAttributes).Select(a => (a, property.Name)));
        }
        foreach (var method in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
        {
            if (method is MethodInfo m) direct.Add((m.ReturnType, method.Name));
            direct.AddRange(method.GetParameters().Select(p => (p.ParameterType, method.Name)));
            direct.AddRange(Attributes(method.CustomAttributes).Select(a => (a, method.Name)));
            if (method.GetMethodBody() is not { } body) continue;
            direct.AddRange(body.LocalVariables.Select(l => (l.LocalType, method.Name)));
            direct.AddRange(BodyUses(type, method, body.GetILAsByteArray() ?? []).Select(t => (t, method.Name)));
        }
        return direct.SelectMany(d => Expand(d.Item1).Select(t => (t, d.Item2)));
    }

    private static IEnumerable<Type> Attributes(IEnumerable<CustomAttributeData> attributes) =>
        attributes.SelectMany(a => new[] { a.AttributeType }.Concat(a.ConstructorArguments.Select(c => c.Value).OfType<Type>()));

    /// <summary>A type with its element type and generic arguments, recursively (<c>List&lt;RunRecord&gt;[]</c> uses RunRecord).</summary>
    private static IEnumerable<Type> Expand(Type type)
    {
        if (type.IsGenericParameter) yield break;
        if (type.HasElementType && type.GetElementType() is { } element)
        {
            foreach (var t in Expand(element)) yield return t;
            yield break;
        }
        yield return type.IsGenericType ? type.GetGenericTypeDefinition() : type;
        if (!type.IsGenericType) yield break;
        foreach (var t in type.GetGenericArguments().SelectMany(Expand)) yield return t;
    }

    private static IEnumerable<Type> BodyUses(Type type, MethodBase method, byte[] il)
    {
        var typeArgs = type.IsGenericType ? type.GetGenericArguments() : null;
        var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (var i = 0; i < il.Length;)
        {
            var code = il[i] == 0xFE ? TwoByte[il[i + 1]] : OneByte[il[i]];
            i += il[i] == 0xFE ? 2 : 1;
            var size = OperandSize(code, il, i);
            if (code.OperandType is OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineTok or OperandType.InlineType)
            {
                var member = method.Module.ResolveMember(BitConverter.ToInt32(il, i), typeArgs, methodArgs);
                switch (member)
                {
                    case Type t:
                        yield return t;
                        break;
                    case FieldInfo f:
                        yield return f.DeclaringType!;
                        yield return f.FieldType;
                        break;
                    case MethodBase m:
                        if (m.DeclaringType is { } declaring) yield return declaring;
                        if (m is MethodInfo mi)
                        {
                            yield return mi.ReturnType;
                            if (mi.IsGenericMethod) foreach (var g in mi.GetGenericArguments()) yield return g;
                        }
                        foreach (var p in m.GetParameters()) yield return p.ParameterType;
                        break;
                }
            }
            i += size;
        }
    }

    private static int OperandSize(OpCode code, byte[] il, int at) => code.OperandType switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, at),
        _ => 4,
    };

    private static readonly OpCode[] OneByte = new OpCode[256];
    private static readonly OpCode[] TwoByte = new OpCode[256];

    static FolderDependencies()
    {
        foreach (var field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var code = (OpCode)field.GetValue(null)!;
            var value = unchecked((ushort)code.Value);
            if (code.Size == 1) OneByte[value] = code;
            else TwoByte[value & 0xFF] = code;
        }
    }

    /// <summary>
    /// The uses that break <paramref name="order"/> (folders from the bottom up; "" is the root namespace): a folder may use
    /// the folders before it, never one after it; a folder missing from the list is a failure too.
    /// </summary>
    public static IReadOnlyList<string> Violations(Assembly assembly, string root, IReadOnlyList<string> order)
    {
        var problems = new List<string>();
        var folders = assembly.GetTypes().Select(t => FolderOf(t, root)).OfType<string>().Distinct().Order(StringComparer.Ordinal);
        problems.AddRange(folders.Where(f => !order.Contains(f)).Select(f => $"The folder '{f}' is not in the order."));
        foreach (var (from, to, where) in Find(assembly, root).DistinctBy(d => (d.From, d.To, d.Where)))
        {
            var (a, b) = (IndexOf(order, from), IndexOf(order, to));
            if (a >= 0 && b >= 0 && b > a) problems.Add($"{Name(from)} uses {Name(to)}, which comes after it: {where}");
        }
        return problems;
    }

    private static int IndexOf(IReadOnlyList<string> order, string folder) => order.ToList().IndexOf(folder);

    private static string Name(string folder) => folder.Length == 0 ? "the root namespace" : folder;
}

using System.Collections.Frozen;
using System.Reflection;
using Microsoft.AspNetCore.Http;

namespace Tally.Cli.Dashboard;

/// <summary>The dashboard's pages, scripts, styles and Chart.js, embedded in the tally assembly (resources <c>dashboard/&lt;file&gt;</c>).</summary>
internal static class StaticAssets
{
    private const string Prefix = "dashboard/";

    private static readonly FrozenDictionary<string, byte[]> Files = Load();

    private static FrozenDictionary<string, byte[]> Load()
    {
        var assembly = typeof(StaticAssets).Assembly;
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            files[name[Prefix.Length..]] = copy.ToArray();
        }
        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The file <paramref name="name"/> (for example <c>run.html</c>) with its content type, or 404.</summary>
    public static IResult Serve(string name)
    {
        if (!Files.TryGetValue(name, out var bytes)) return Results.NotFound(new ApiError($"There is no file '{name}'."));
        var type = Path.GetExtension(name) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            _ => "application/octet-stream",
        };
        return Results.Bytes(bytes, type);
    }
}

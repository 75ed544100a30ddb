using System.Text.Json;
using System.Text.RegularExpressions;
using Tally.Configuration;

namespace Tally.Aws.Cdk;

/// <summary>
/// Tally's settings file (the one <c>tally --settings</c> reads), as far as the deployment needs it: the sections
/// <c>Source</c>, <c>Aggregations</c> and <c>Catalog</c>, and <c>RejectedThreshold</c> (both engines fail a run above it, as
/// <c>tally run</c> does). Other sections are ignored, and so are the <c>TALLY_</c>
/// environment variables: what is deployed is what the file says.
/// </summary>
internal static partial class SettingsFile
{
    /// <summary>
    /// Reads the declaration of <paramref name="path"/> and validates it with Tally.Core's rules, as <c>tally</c> does.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="shownAs">How errors name the file (as the user wrote it).</param>
    /// <exception cref="TallyException">
    /// NotFound when the file does not exist; InvalidConfiguration, one sentence naming the settings key, when it is not
    /// JSON, a value has the wrong JSON type, or the declaration is not valid.
    /// </exception>
    public static TallyOptions Read(string path, string shownAs)
    {
        if (!File.Exists(path)) throw TallyException.NotFound($"The settings file '{shownAs}' ({DeploymentSettings.SettingsKey}) does not exist.");
        Sections? sections;
        try
        {
            sections = JsonSerializer.Deserialize<Sections>(File.ReadAllText(path), Options);
        }
        catch (JsonException e)
        {
            throw TallyException.InvalidConfiguration($"The settings file '{shownAs}' is not valid: {Describe(e)}.");
        }
        sections ??= new Sections(null, null, null, null);
        var catalog = sections.Catalog ?? new CatalogSettings();
        var schema = DeclarationBinder.Schema(sections.Source);
        var options = new TallyOptions
        {
            Source = schema,
            Aggregations = DeclarationBinder.Aggregations(sections.Aggregations, schema),
            RawDatabase = catalog.RawDatabase,
            AggregatedDatabase = catalog.AggregatedDatabase,
            RejectedThreshold = sections.RejectedThreshold ?? new TallyOptions().RejectedThreshold,
        };
        options.Validate();
        return options;
    }

    /// <summary>What System.Text.Json found, with its JSON path written as a settings key (<c>Source:Fields:0:Type</c>).</summary>
    private static string Describe(JsonException e)
    {
        var key = e.Path is null or "$" ? null : JsonPathStep().Replace(e.Path.TrimStart('$', '.'), ":$1").Replace('.', ':');
        var line = e.LineNumber is { } n ? $" (line {n + 1})" : "";
        // A value of the wrong kind ("Type": 5, "GroupBy": "Domain"); anything else is a syntax error.
        if (e.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal))
        {
            return key is null ? $"it must be a JSON object{line}" : $"{key} has the wrong JSON type{line}";
        }
        var reason = e.Message.Split(" Path: ")[0].Split(" LineNumber: ")[0].TrimEnd('.', ' ');
        return $"it is not valid JSON{line}: {reason}";
    }

    [GeneratedRegex(@"\[(\d+)\]")]
    private static partial Regex JsonPathStep();

    /// <summary>As Microsoft.Extensions.Configuration reads JSON: keys in any case, comments and trailing commas allowed.</summary>
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    private sealed record Sections(SourceSettings? Source, List<AggregationSettings>? Aggregations, CatalogSettings? Catalog, double? RejectedThreshold);
}

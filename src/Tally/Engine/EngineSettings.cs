using Microsoft.Extensions.Options;
using Tally.Configuration;

namespace Tally.Engine;

/// <summary>
/// What the engine reads and writes: the top-level keys of the settings (<c>RejectedThreshold</c>, <c>Parallelism</c>) and
/// the declaration (<c>Source</c>, <c>Aggregations</c>, <c>Catalog</c>; see the README's "Your own data").
/// </summary>
public sealed class EngineSettings
{
    /// <summary>The largest share of rejected records a run accepts (0.01 = 1 %).</summary>
    public double RejectedThreshold { get; set; } = 0.01;

    /// <summary>Raw files read at once; 0 = one per core.</summary>
    public int Parallelism { get; set; }

    /// <summary>The declared raw record; the seed's when absent.</summary>
    public SourceSettings? Source { get; set; }

    /// <summary>The aggregated tables; the seed's three when absent.</summary>
    public List<AggregationSettings>? Aggregations { get; set; }

    /// <summary>The catalog's database names.</summary>
    public CatalogSettings Catalog { get; set; } = new();

    /// <summary>The engine options these settings give (the declaration is resolved once).</summary>
    /// <exception cref="TallyException">InvalidConfiguration when the declaration is not valid.</exception>
    public TallyOptions ToOptions()
    {
        var (schema, aggregations) = _declaration ??= Declaration();
        return new()
        {
            RejectedThreshold = RejectedThreshold,
            MaxParallelism = Parallelism,
            Source = schema,
            Aggregations = aggregations,
            RawDatabase = Catalog.RawDatabase,
            AggregatedDatabase = Catalog.AggregatedDatabase,
        };
    }

    private (SourceSchema, IReadOnlyList<AggregationSpec>)? _declaration;

    private (SourceSchema, IReadOnlyList<AggregationSpec>) Declaration()
    {
        var schema = DeclarationBinder.Schema(Source);
        return (schema, DeclarationBinder.Aggregations(Aggregations, schema));
    }
}

/// <summary>The engine's rules (<see cref="TallyOptions.Validate"/>, the declaration's), checked once when the settings are loaded.</summary>
internal sealed class EngineSettingsValidator : IValidateOptions<EngineSettings>
{
    public ValidateOptionsResult Validate(string? name, EngineSettings options)
    {
        try
        {
            options.ToOptions().Validate();
            return ValidateOptionsResult.Success;
        }
        catch (TallyException e) when (e.Kind == TallyErrorKind.InvalidConfiguration)
        {
            return ValidateOptionsResult.Fail(e.Message);
        }
    }
}

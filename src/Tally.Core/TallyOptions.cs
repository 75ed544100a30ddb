namespace Tally;

/// <summary>What a run does: which tables it computes, how much bad input it tolerates, where the catalog names them.</summary>
public sealed record TallyOptions
{
    /// <summary>The largest share of rejected records (rejected / all records read) a run accepts; above it the run fails. Default 0.01 (1 %).</summary>
    public double RejectedThreshold { get; init; } = 0.01;

    /// <summary>The shape of the raw records; default the seed's six fields.</summary>
    public SourceSchema Source { get; init; } = SourceSchema.Seed;

    /// <summary>The tables to compute; default the seed's three.</summary>
    public IReadOnlyList<AggregationSpec> Aggregations { get; init; } = AggregationSpec.Defaults;

    /// <summary>The tables resolved against <see cref="Source"/>, in <see cref="Aggregations"/> order.</summary>
    /// <exception cref="TallyException">When a table does not fit the schema.</exception>
    public IReadOnlyList<TableDefinition> Tables() => AggregationSpec.Validate(Aggregations, Source, "Aggregations");

    /// <summary>How many raw files are read at once; 0 means one per processor core.</summary>
    public int MaxParallelism { get; init; }

    /// <summary>The catalog database of the aggregated tables.</summary>
    public string AggregatedDatabase { get; init; } = "demo-aggregated-data";

    /// <summary>The catalog database of the raw table.</summary>
    public string RawDatabase { get; init; } = "demo-raw-data";

    /// <summary>The raw table's name.</summary>
    public string RawTable { get; init; } = "raw_data";

    /// <summary>The effective parallelism: <see cref="MaxParallelism"/>, or the processor count when 0.</summary>
    public int EffectiveParallelism => MaxParallelism > 0 ? MaxParallelism : Environment.ProcessorCount;

    /// <summary>Checks every option.</summary>
    /// <exception cref="TallyException">With the first problem found.</exception>
    public void Validate()
    {
        if (double.IsNaN(RejectedThreshold) || RejectedThreshold is < 0 or > 1)
        {
            throw TallyException.InvalidConfiguration($"The rejected threshold must be between 0 and 1 (a share, 0.01 = 1 %), not {RejectedThreshold}.");
        }
        if (MaxParallelism < 0) throw TallyException.InvalidConfiguration("MaxParallelism must be 0 (one per core) or more.");
        if (string.IsNullOrWhiteSpace(RawDatabase) || string.IsNullOrWhiteSpace(AggregatedDatabase) || string.IsNullOrWhiteSpace(RawTable))
        {
            throw TallyException.InvalidConfiguration("Catalog:RawDatabase, Catalog:AggregatedDatabase and the raw table's name must not be empty.");
        }
        if (RawDatabase == AggregatedDatabase) throw TallyException.InvalidConfiguration($"Catalog:RawDatabase and Catalog:AggregatedDatabase are both '{RawDatabase}'; give them different names.");
        Tables();
    }
}

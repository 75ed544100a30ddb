namespace Tally;

/// <summary>What a metric computes per group.</summary>
public enum MetricFunction
{
    /// <summary>The number of records in the group (<c>bigint</c>).</summary>
    Count,
    /// <summary>The sum of a numeric field, nulls ignored: <c>bigint</c> for int64 (overflow fails the run), <c>double</c> for double; null when every value was null.</summary>
    Sum,
    /// <summary>The smallest value of a field, nulls ignored, of the field's type; null when every value was null.</summary>
    Min,
    /// <summary>The largest value of a field, nulls ignored, of the field's type; null when every value was null.</summary>
    Max,
    /// <summary>The exact number of distinct non-null values of a field (<c>bigint</c>); memory grows with the distinct values.</summary>
    CountDistinct,
}

/// <summary>One metric column of an aggregated table, as declared (<c>{"Column": "bytes", "Function": "sum", "Field": "bytes"}</c>).</summary>
/// <param name="Column">The output column's name.</param>
/// <param name="Function">What it computes.</param>
/// <param name="Field">The field it reads (its name or column); null for <see cref="MetricFunction.Count"/>.</param>
public sealed record MetricSpec(string Column, MetricFunction Function, string? Field = null)
{
    /// <summary>The metric every table has when none is declared: <c>hitcount</c>, the number of records.</summary>
    public static MetricSpec HitCount { get; } = new(AggregationSpec.CountColumn, MetricFunction.Count);

    /// <summary>The settings word of a function: <c>count</c>, <c>sum</c>, <c>min</c>, <c>max</c>, <c>count_distinct</c>.</summary>
    public static string FunctionName(MetricFunction function) => function switch
    {
        MetricFunction.Count => "count",
        MetricFunction.Sum => "sum",
        MetricFunction.Min => "min",
        MetricFunction.Max => "max",
        _ => "count_distinct",
    };

    /// <summary>The function a settings word names, in any case; false for anything else.</summary>
    internal static bool TryParseFunction(string? text, out MetricFunction function)
    {
        foreach (var candidate in Enum.GetValues<MetricFunction>())
        {
            if (string.Equals(FunctionName(candidate), text, StringComparison.OrdinalIgnoreCase))
            {
                function = candidate;
                return true;
            }
        }
        function = default;
        return false;
    }

    /// <summary>The function words, for error messages.</summary>
    public static string FunctionNames => string.Join(", ", Enum.GetValues<MetricFunction>().Select(FunctionName));
}

/// <summary>A metric resolved against the source schema: what the engine computes and the writer stores.</summary>
/// <param name="Column">The output column's name.</param>
/// <param name="Function">What it computes.</param>
/// <param name="Field">The field it reads; null for <see cref="MetricFunction.Count"/>.</param>
/// <param name="CatalogType">The output column's catalog type (<see cref="CatalogTypes"/>).</param>
public sealed record TableMetric(string Column, MetricFunction Function, RawField? Field, string CatalogType);

/// <summary>
/// An aggregation resolved against the source schema, as the engine, the writers and the catalog use it: the group-by
/// fields, the metrics with their output types, and the stored columns.
/// </summary>
/// <param name="Spec">The declaration.</param>
/// <param name="GroupBy">The group-by fields, in the declared order (the rows' sort order).</param>
/// <param name="Metrics">The metric columns, in the declared order.</param>
/// <param name="Columns">The stored columns: the group-by columns in the schema's field order, then the metrics.</param>
public sealed record TableDefinition(AggregationSpec Spec, IReadOnlyList<RawField> GroupBy, IReadOnlyList<TableMetric> Metrics, IReadOnlyList<TableColumn> Columns)
{
    /// <summary>The table's name.</summary>
    public string Table => Spec.Table;

    /// <summary>The table's file format.</summary>
    public TableFormat Format => Spec.Format;

    /// <summary>Whether the only metric is the seed's record count (the engine's fastest path).</summary>
    public bool CountsOnly => Metrics.All(m => m.Function == MetricFunction.Count);
}

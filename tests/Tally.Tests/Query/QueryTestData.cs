using System.Globalization;
using Tally.Engine;
using Tally.Metastore;
using Tally.Query;

namespace Tally.Tests.Query;

/// <summary>Shared steps of the query tests: aggregate hours and record them, open the SQL service, render rows like <see cref="DuckDbOracle"/>.</summary>
internal static class QueryTestData
{
    public static async Task<Catalog> OpenCatalogAsync(TempDataFolder data) =>
        await Catalog.OpenAsync(Path.Combine(data.Root, ".tally"), data.Store, new TallyOptions());

    /// <summary>Runs the job for each hour and records each run in the catalog.</summary>
    public static async Task<IReadOnlyList<RunReport>> RunAndRecordAsync(TempDataFolder data, Catalog catalog, params HourWindow[] hours)
    {
        var reports = new List<RunReport>();
        foreach (var hour in hours)
        {
            var report = await new HourAggregationJob(data.Store, new TallyOptions()).RunAsync(hour);
            Assert.Equal(RunStatus.Succeeded, report.Status);
            await catalog.RecordRunAsync(report, Catalog.NewRunId(TimeProvider.System));
            reports.Add(report);
        }
        return reports;
    }

    /// <summary>The columns and rows of <paramref name="sql"/>, each row rendered "value|value|…" (NULL for null).</summary>
    public static (IReadOnlyList<string> Columns, IReadOnlyList<string> Rows) Run(QueryService service, string sql)
    {
        using var result = service.Execute(sql);
        var rows = result.Rows.Select(Render).ToList();
        return (result.Columns.Select(c => c.Name).ToList(), rows);
    }

    public static string Render(object?[] row) =>
        string.Join('|', row.Select(v => v is null ? "NULL" : Convert.ToString(v, CultureInfo.InvariantCulture)));

    /// <summary>DuckDB's own GROUP BY over the hour's raw files, each row followed by the hour's partition values, as the view shows them.</summary>
    public static IEnumerable<string> ExpectedWithPartition(DuckDbOracle oracle, string root, HourWindow hour, AggregationSpec spec) =>
        oracle.ExpectedRows(root, hour, spec).Select(r => r + "|" + string.Join('|', DataLayout.HourPartitionValues(hour)));
}

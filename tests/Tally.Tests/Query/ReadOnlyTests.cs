using System.Security.Cryptography;
using Tally.Query;
using Tally.Synthetic;

namespace Tally.Tests.Query;

/// <summary><c>tally query</c> is read-only: statements that write, copy, attach, install or load are refused and change nothing.</summary>
public sealed class ReadOnlyTests : IDisposable
{
    private static readonly HourWindow Hour = HourWindow.Parse("2026-11-24T13");
    private readonly TempDataFolder _data = new();

    public static TheoryData<string, string> WriteStatements => new()
    {
        { "COPY (SELECT * FROM \"demo-aggregated-data\".\"hits_by_country\") TO '{root}/aggregated_data/copied.csv'", "COPY statements are refused" },
        { "COPY \"demo-aggregated-data\".\"hits_by_country\" TO '{root}/copied.parquet' (FORMAT parquet)", "COPY statements are refused" },
        { "CREATE TABLE stolen AS SELECT * FROM \"demo-aggregated-data\".\"hits_by_country\"", "CREATE statements are refused" },
        { "CREATE OR REPLACE VIEW \"demo-aggregated-data\".\"hits_by_country\" AS SELECT 1", "CREATE statements are refused" },
        { "INSERT INTO \"demo-aggregated-data\".\"hits_by_country\" VALUES ('XX', 1, '2026', '11', '24', '13')", "INSERT statements are refused" },
        { "ATTACH '{root}/aggregated_data/new.duckdb' AS db", "ATTACH statements are refused" },
        { "INSTALL httpfs", "INSTALL statements are refused" },
        { "LOAD parquet", "LOAD statements are refused" },
        { "SET enable_external_access = true", "SET statements are refused" },
        { "SELECT 1; COPY (SELECT 1) TO '{root}/x.csv'", "refused" },
        { "SELECT 1; SELECT 2", "2 statements" },
        { "/* comment */ copy (select 1) to '{root}/x.csv'", "COPY statements are refused" },
    };

    [Theory]
    [MemberData(nameof(WriteStatements))]
    public async Task Query_RefusesStatement_AndChangesNothing(string statement, string message)
    {
        using var service = await PrepareAsync();
        var before = Snapshot();

        var error = Assert.Throws<TallyException>(() => service.Execute(statement.Replace("{root}", _data.Root, StringComparison.Ordinal)).Dispose());

        Assert.Equal(TallyErrorKind.InvalidArgument, error.Kind);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot());
        // The service still answers, with the same rows.
        Assert.NotEmpty(QueryTestData.Run(service, SeedQueries.HitsByCountry).Rows);
    }

    [Fact]
    public async Task Query_RunsHarmlessSelect()
    {
        using var service = await PrepareAsync();

        var (columns, rows) = QueryTestData.Run(service, "WITH t AS (SELECT 40 + 2 AS answer) SELECT answer FROM t");

        Assert.Equal(["answer"], columns);
        Assert.Equal(["42"], rows);
    }

    [Fact]
    public async Task Query_RefusesReadingFilesOutsideTheDataFolder()
    {
        using var service = await PrepareAsync();
        var outside = Path.Combine(Path.GetTempPath(), $"tally-outside-{Guid.NewGuid():N}.csv");
        File.WriteAllText(outside, "secret\n1\n");
        try
        {
            var error = Assert.Throws<TallyException>(() => QueryTestData.Run(service, $"SELECT * FROM read_csv('{outside}')"));
            Assert.Contains("refused", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(outside);
        }
    }

    [Theory]
    [InlineData("SELEC * FROM x", TallyErrorKind.InvalidArgument, "not valid SQL")]
    [InlineData("SELECT * FROM \"demo-aggregated-data\".\"no_such_table\"", TallyErrorKind.NotFound, "does not exist")]
    [InlineData("SELECT * FROM \"no-such-db\".\"hits_by_country\"", TallyErrorKind.NotFound, "does not exist")]
    [InlineData("   ", TallyErrorKind.InvalidArgument, "empty")]
    public async Task Query_ReportsMistakes_AsOneSentence(string sql, TallyErrorKind kind, string message)
    {
        using var service = await PrepareAsync();

        var error = Assert.Throws<TallyException>(() => QueryTestData.Run(service, sql));

        Assert.Equal(kind, error.Kind);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    private async Task<QueryService> PrepareAsync()
    {
        await new RawDataGenerator(_data.Store).GenerateAsync(new GeneratorOptions(Hour, 1, 2_000, Seed: 9));
        var catalog = await QueryTestData.OpenCatalogAsync(_data);
        await QueryTestData.RunAndRecordAsync(_data, catalog, Hour);
        return await QueryService.OpenAsync(catalog, _data.Root);
    }

    /// <summary>Every file under the data folder (the metastore aside, which readers may touch) with a hash of its bytes.</summary>
    private IReadOnlyList<string> Snapshot() =>
        _data.AllFiles().Where(f => !f.StartsWith(".tally/", StringComparison.Ordinal))
            .Select(f => f + " " + Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(_data.PathOf(f))))).ToList();

    public void Dispose() => _data.Dispose();
}

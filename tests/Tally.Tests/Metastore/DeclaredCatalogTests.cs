using System.Text.Json;
using Tally.Configuration;
using Tally.Metastore;

namespace Tally.Tests.Metastore;

/// <summary>The catalog of a declared source and declared tables, read back from the SQLite file itself.</summary>
public sealed class DeclaredCatalogTests : IDisposable
{
    private readonly TempDataFolder _data = new();

    private string StateDirectory => Path.Combine(_data.Root, ".tally");

    /// <summary>The options a settings file with <paramref name="json"/> gives, as every command reads them.</summary>
    private TallyOptions Options(string json)
    {
        var file = Path.Combine(_data.Root, "settings.json");
        File.WriteAllText(file, json);
        return TallySettings.Load(StateDirectory, file).ToOptions();
    }

    /// <summary>Every registered table as "database.name format location column:type,…", straight from the metastore file.</summary>
    private List<string> RegisteredTables() =>
        MetastoreRows.Read(StateDirectory, "SELECT database_name, name, format, location, columns, partition_keys FROM tables ORDER BY database_name, name")
            .Select(r => $"{r[0]}.{r[1]} {r[2]} {r[3]} {Columns(r[4])} | {Columns(r[5])}").ToList();

    private static string Columns(string json) =>
        string.Join(',', JsonDocument.Parse(json).RootElement.EnumerateArray().Select(c => $"{c.GetProperty("name").GetString()}:{c.GetProperty("type").GetString()}"));

    [Fact]
    public async Task Open_RegistersTheDeclaredFieldsAndTables_WithTheirColumnsTypesAndDatabases()
    {
        await Catalog.OpenAsync(StateDirectory, _data.Store, Options(DeclaredSource.Settings));

        const string hour = "year:string,month:string,day:string,hour:string";
        Assert.Equal(
            [$"web.by_country parquet aggregated_data/by_country {string.Join(',', DeclaredSource.CountryColumns)} | {hour}",
             $"web.by_country_lines json aggregated_data/by_country_lines {string.Join(',', DeclaredSource.CountryColumns)} | {hour}",
             $"web.by_os json aggregated_data/by_os {string.Join(',', DeclaredSource.OsColumns)} | {hour}",
             $"web-raw.raw_data json raw_data {string.Join(',', DeclaredSource.RawColumns)} | {hour},minute:string"],
            RegisteredTables());
        Assert.Equal([["web"], ["web-raw"]], MetastoreRows.Read(StateDirectory, "SELECT name FROM databases ORDER BY name"));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{ "Catalog": { "RawDatabase": "demo-raw-data" }, "Aggregations": [] }""")]
    [InlineData("""
        { "Source": { "Fields": [ { "Name": "GroupID", "Type": "int64" }, { "Name": "CountryCode" }, { "Name": "UserAgent" },
            { "Name": "Language" }, { "Name": "Domain" }, { "Name": "Timestamp", "Type": "timestamp" } ], "EventTime": "Timestamp" } }
        """)]
    public async Task Open_WithoutADeclaration_OrTheSeedsOwn_RegistersTheSeedsCatalog(string settings)
    {
        await Catalog.OpenAsync(StateDirectory, _data.Store, Options(settings));

        // The seed's Glue tables, column for column, as the metastore stored them before sources were declared.
        const string hour = "year:string,month:string,day:string,hour:string";
        Assert.Equal(
            [$"demo-aggregated-data.hits_by_country parquet aggregated_data/hits_by_country countrycode:string,hitcount:bigint | {hour}",
             $"demo-aggregated-data.hits_by_domain_and_groupid json aggregated_data/hits_by_domain_and_groupid groupid:bigint,domain:string,hitcount:bigint | {hour}",
             $"demo-aggregated-data.hits_by_useragent parquet aggregated_data/hits_by_useragent useragent:string,hitcount:bigint | {hour}",
             $"demo-raw-data.raw_data json raw_data groupid:bigint,countrycode:string,useragent:string,language:string,domain:string,timestamp:string | {hour},minute:string"],
            RegisteredTables());
        Assert.Equal([["demo-aggregated-data"], ["demo-raw-data"]], MetastoreRows.Read(StateDirectory, "SELECT name FROM databases ORDER BY name"));
    }

    [Fact]
    public async Task Open_ReplacesTheRawTablesColumns_WhenTheDeclaredFieldsChange_UnderTheSameName()
    {
        await Catalog.OpenAsync(StateDirectory, _data.Store, new TallyOptions());
        _data.WriteRaw(HourWindow.Parse("2026-11-24T13"), 0, "a.json", "{}\n");
        var seed = await Catalog.OpenAsync(StateDirectory, _data.Store, new TallyOptions());
        await seed.DiscoverRawPartitionsAsync(null);
        var declared = Options(DeclaredSource.Settings.Replace("\"RawDatabase\": \"web-raw\"", "\"RawDatabase\": \"demo-raw-data\"", StringComparison.Ordinal));

        var catalog = await Catalog.OpenAsync(StateDirectory, _data.Store, declared);

        var raw = (await catalog.FindTableAsync("demo-raw-data", "raw_data"))!;
        Assert.Equal(DeclaredSource.RawColumns, raw.Columns.Select(c => $"{c.Name}:{c.CatalogType}"));
        // The partitions are the folders', whatever the records hold: they stay.
        Assert.Single(await catalog.ListPartitionsAsync("demo-raw-data", "raw_data"));
    }

    public void Dispose() => _data.Dispose();
}

using DuckDB.NET.Data;

namespace Tally.Dashboard.Tests;

/// <summary>Answers straight from the aggregated files with DuckDB, independently of Tally's query service and catalog.</summary>
internal static class DuckDbOracle
{
    /// <summary>(countrycode, hitcount) of every row of every hits_by_country Parquet file under <paramref name="data"/>, sorted.</summary>
    public static List<(string? Country, long Hits)> CountryRows(string data)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        var glob = Path.Combine(data, "aggregated_data", "hits_by_country", "**", "*.parquet").Replace("'", "''", StringComparison.Ordinal);
        command.CommandText = $"SELECT countrycode, hitcount FROM read_parquet('{glob}', hive_partitioning = false) ORDER BY ALL";
        using var reader = command.ExecuteReader();
        var rows = new List<(string?, long)>();
        while (reader.Read()) rows.Add((reader.IsDBNull(0) ? null : reader.GetString(0), reader.GetInt64(1)));
        return rows;
    }
}

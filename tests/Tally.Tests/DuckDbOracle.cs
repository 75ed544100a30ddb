using System.Globalization;
using DuckDB.NET.Data;

namespace Tally.Tests;

/// <summary>
/// DuckDB as the independent engine: counts computed by SQL over the same raw files, and Tally's output files read back.
/// Rows are rendered as "value|value|count" strings (NULL for null) so results compare as plain string lists.
/// </summary>
public sealed class DuckDbOracle : IDisposable
{
    private const string RawColumns =
        "columns={GroupID: 'BIGINT', CountryCode: 'VARCHAR', UserAgent: 'VARCHAR', Language: 'VARCHAR', Domain: 'VARCHAR', Timestamp: 'VARCHAR'}";

    private readonly DuckDBConnection _connection;

    public DuckDbOracle()
    {
        _connection = new DuckDBConnection("Data Source=:memory:");
        _connection.Open();
    }

    /// <summary>The expected rows of <paramref name="spec"/> for the hour: DuckDB's GROUP BY over every raw file of the hour, sorted.</summary>
    public IReadOnlyList<string> ExpectedRows(string root, HourWindow hour, AggregationSpec spec)
    {
        var glob = Path.Combine(root, DataLayout.RawHourPrefix(hour), "*", "*.json").Replace("'", "''");
        var columns = spec.Columns().Where(c => c.Name != AggregationSpec.CountColumn).Select(c => Quote(c.Name)).ToList();
        var sql = $"""
            SELECT {string.Join(", ", columns)}, count(*)::BIGINT AS hitcount
            FROM read_json('{glob}', format = 'newline_delimited', {RawColumns}, hive_partitioning = false)
            GROUP BY ALL
            """;
        return Rows(sql).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The expected rows of <paramref name="spec"/> over the given raw files, sorted: DuckDB's GROUP BY, each file read with
    /// the compression the test says it has (<c>uncompressed</c>, <c>gzip</c> or <c>zstd</c>), whatever its name, as JSON values
    /// one after another (JSON Lines, or objects back to back with no separator).
    /// </summary>
    public IReadOnlyList<string> ExpectedRows(IEnumerable<(string Path, string Compression)> files, AggregationSpec spec)
    {
        var columns = spec.Columns().Where(c => c.Name != AggregationSpec.CountColumn).Select(c => Quote(c.Name)).ToList();
        var reads = files.Select(f => $"""
            SELECT * FROM read_json('{f.Path.Replace("'", "''")}', format = 'unstructured', compression = '{f.Compression}', {RawColumns}, hive_partitioning = false)
            """).ToList();
        Assert.NotEmpty(reads);
        var sql = $"""
            SELECT {string.Join(", ", columns)}, count(*)::BIGINT AS hitcount
            FROM ({string.Join(" UNION ALL ", reads)})
            GROUP BY ALL
            """;
        return Rows(sql).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The rows of a Tally output file as DuckDB reads it, in file order.</summary>
    public IReadOnlyList<string> FileRows(string path, TableFormat format) => Rows($"SELECT * FROM {Reader(path, format)}");

    /// <summary>Column names and DuckDB types of a Tally output file.</summary>
    public IReadOnlyList<string> FileSchema(string path, TableFormat format) =>
        Rows($"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {Reader(path, format)})")
            .Select(r => r.Replace('|', ' ')).ToList();

    public IReadOnlyList<string> Rows(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            var values = new string[reader.FieldCount];
            for (var i = 0; i < reader.FieldCount; i++)
            {
                values[i] = reader.IsDBNull(i) ? "NULL" : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture)!;
            }
            rows.Add(string.Join('|', values));
        }
        return rows;
    }

    private static string Reader(string path, TableFormat format)
    {
        var p = path.Replace("'", "''");
        return format == TableFormat.Parquet ? $"read_parquet('{p}', hive_partitioning = false)" : $"read_json('{p}', format = 'newline_delimited', hive_partitioning = false)";
    }

    private static string Quote(string name) => "\"" + name + "\"";

    public void Dispose() => _connection.Dispose();
}

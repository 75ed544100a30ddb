using System.Globalization;
using System.Text;
using DuckDB.NET.Data;
using Tally.Engine;

namespace Tally.Tests;

/// <summary>
/// A declared source unlike the seed's, for the parts that know the schema (catalog, query views, dashboard, CLI): nested
/// names (two and three levels), renamed columns, every field type, custom database names, and tables with a column of every
/// catalog type in both formats. Raw files are written here; the tables an engine would write from them are made by DuckDB
/// from the raw files (json_extract, nothing of Tally's), so they stand in for the engine's output until it writes metrics.
/// Linked by the command line's and the dashboard's test projects.
/// </summary>
internal static class DeclaredSource
{
    public const string RawDatabase = "web-raw";
    public const string AggregatedDatabase = "web";

    /// <summary>The three tables, in the declared order.</summary>
    public static readonly string[] Tables = ["by_country", "by_country_lines", "by_os"];

    /// <summary>The settings file's declaration (sections Source, Aggregations, Catalog).</summary>
    public const string Settings = """
        {
          "Source": {
            "Fields": [
              { "Name": "user.id", "Type": "int64" },
              { "Name": "geo.country", "Column": "country" },
              { "Name": "geo.city" },
              { "Name": "Page", "Type": "string" },
              { "Name": "bytes", "Type": "int64" },
              { "Name": "latency", "Type": "double", "Column": "latency_ms" },
              { "Name": "cached", "Type": "boolean" },
              { "Name": "at", "Type": "timestamp" },
              { "Name": "client.device.os", "Column": "os" }
            ],
            "EventTime": "at"
          },
          "Aggregations": [
            { "Table": "by_country", "GroupBy": ["country", "cached"], "Format": "parquet", "Metrics": [
              { "Column": "requests", "Function": "count" },
              { "Column": "bytes", "Function": "sum", "Field": "bytes" },
              { "Column": "latency_total", "Function": "sum", "Field": "latency" },
              { "Column": "first_at", "Function": "min", "Field": "at" },
              { "Column": "last_page", "Function": "max", "Field": "Page" },
              { "Column": "users", "Function": "count_distinct", "Field": "user.id" } ] },
            { "Table": "by_country_lines", "GroupBy": ["country", "cached"], "Format": "json", "Metrics": [
              { "Column": "requests", "Function": "count" },
              { "Column": "bytes", "Function": "sum", "Field": "bytes" },
              { "Column": "latency_total", "Function": "sum", "Field": "latency" },
              { "Column": "first_at", "Function": "min", "Field": "at" },
              { "Column": "last_page", "Function": "max", "Field": "Page" },
              { "Column": "users", "Function": "count_distinct", "Field": "user.id" } ] },
            { "Table": "by_os", "GroupBy": ["os"], "Format": "json", "Metrics": [
              { "Column": "slowest", "Function": "max", "Field": "latency" },
              { "Column": "users", "Function": "count_distinct", "Field": "user.id" },
              { "Column": "requests", "Function": "count" } ] }
          ],
          "Catalog": { "RawDatabase": "web-raw", "AggregatedDatabase": "web" }
        }
        """;

    /// <summary>The raw table's columns and catalog types, in order, as the catalog must register them.</summary>
    public static readonly string[] RawColumns =
        ["user_id:bigint", "country:string", "geo_city:string", "page:string", "bytes:bigint", "latency_ms:double", "cached:boolean", "at:string", "os:string"];

    /// <summary>The columns of by_country and by_country_lines: group-by columns in the fields' order, then the metrics.</summary>
    public static readonly string[] CountryColumns =
        ["country:string", "cached:boolean", "requests:bigint", "bytes:bigint", "latency_total:double", "first_at:timestamp", "last_page:string", "users:bigint"];

    public static readonly string[] OsColumns = ["os:string", "slowest:double", "users:bigint", "requests:bigint"];

    private static readonly string[] Countries = ["NZ", "US", "DE", "JP", "BR"];
    private static readonly string[] Systems = ["ios", "android", "linux", "windows"];

    /// <summary>Writes <paramref name="records"/> raw records of <paramref name="hour"/> in two minute folders, of every shape the declaration allows.</summary>
    public static void WriteRaw(string root, HourWindow hour, int records, int seed)
    {
        var random = new Random(seed);
        var files = new[] { new StringBuilder(), new StringBuilder() };
        for (var i = 0; i < records; i++)
        {
            var fields = new List<string>();
            // Each field is sometimes missing, sometimes null, and its enclosing object sometimes missing or null.
            string? Maybe(string json) => random.Next(12) switch { 0 => null, 1 => "null", _ => json };
            void Add(string name, string? json)
            {
                if (json is not null) fields.Add($"\"{name}\":{json}");
            }
            Add("user", random.Next(10) == 0 ? "null" : $"{{\"id\":{Maybe((1 + random.Next(40)).ToString(CultureInfo.InvariantCulture)) ?? "null"},\"name\":\"u{i}\"}}");
            var geo = new List<string>();
            if (Maybe($"\"{Countries[random.Next(Countries.Length)]}\"") is { } country) geo.Add($"\"country\":{country}");
            if (Maybe($"\"city-{random.Next(7)}\"") is { } city) geo.Add($"\"city\":{city}");
            Add("geo", random.Next(15) == 0 ? null : "{" + string.Join(',', geo) + "}");
            Add("Page", Maybe($"\"/p/{random.Next(30)}\""));
            Add("page", "\"not the declared Page\"");
            Add("bytes", Maybe((random.Next(100_000) * 10L).ToString(CultureInfo.InvariantCulture)));
            // Quarters add up exactly in any order.
            Add("latency", Maybe((random.Next(4000) / 4.0).ToString("0.0#", CultureInfo.InvariantCulture)));
            Add("cached", Maybe(random.Next(2) == 0 ? "true" : "false"));
            var at = hour.Start.AddSeconds(random.Next(3600)).AddTicks(random.Next(1_000_000) * 10L);
            Add("at", Maybe(random.Next(5) == 0
                ? $"\"{at.ToOffset(TimeSpan.FromHours(2)):yyyy-MM-dd'T'HH:mm:ss.ffffffzzz}\""
                : $"\"{at.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'}\""));
            Add("client", random.Next(10) == 0 ? "{\"device\":null}" : $"{{\"device\":{{\"os\":{Maybe($"\"{Systems[random.Next(Systems.Length)]}\"") ?? "null"},\"version\":{random.Next(20)}}}}}");
            Add("extra", "{\"nested\":[1,{\"geo\":\"not this one\"}]}");
            files[i % 2].Append('{').AppendJoin(',', fields).Append("}\n");
        }
        for (var f = 0; f < files.Length; f++)
        {
            var folder = Path.Combine(root, DataLayout.RawMinutePrefix(hour, f * 30));
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, "events.json"), files[f].ToString());
        }
    }

    /// <summary>
    /// DuckDB SQL reading every declared field of the raw files under <paramref name="root"/> with json_extract (a
    /// different path than the views' STRUCT columns), under the raw table's columns and then its partition columns.
    /// </summary>
    public static string RawOracle(string root) => $"""
        SELECT CAST(json_extract(json, '$.user.id') AS BIGINT) AS user_id,
               json_extract_string(json, '$.geo.country') AS country,
               json_extract_string(json, '$.geo.city') AS geo_city,
               json_extract_string(json, '$.Page') AS page,
               CAST(json_extract(json, '$.bytes') AS BIGINT) AS bytes,
               CAST(json_extract(json, '$.latency') AS DOUBLE) AS latency_ms,
               CAST(json_extract(json, '$.cached') AS BOOLEAN) AS cached,
               json_extract_string(json, '$.at') AS "at",
               json_extract_string(json, '$.client.device.os') AS os,
               year, month, day, hour, minute
        FROM read_json_objects('{Escape(root)}/raw_data/*/*/*/*/*/*.json', format = 'newline_delimited', hive_partitioning = true,
            hive_types = {"{"}'year': VARCHAR, 'month': VARCHAR, 'day': VARCHAR, 'hour': VARCHAR, 'minute': VARCHAR{"}"})
        """;

    /// <summary>
    /// Writes the hour's file of each table, computed by DuckDB from <see cref="RawOracle"/>: Parquet with a UTC timestamp,
    /// JSON Lines with ISO-8601 text ending in Z (an hour without records gets files without rows). Returns what a run
    /// would report of them.
    /// </summary>
    public static IReadOnlyList<TableOutput> WriteTables(string root, HourWindow hour)
    {
        var outputs = new List<TableOutput>();
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        var s = hour.Start.UtcDateTime;
        var raw = $"""
            (SELECT *, CAST("at" AS TIMESTAMPTZ) AS at_instant FROM ({RawOracle(root)})
             WHERE year = '{s:yyyy}' AND month = '{s:MM}' AND day = '{s:dd}' AND hour = '{s:HH}')
            """;
        string Country(string firstAt) => $"""
            SELECT country, cached, count(*)::BIGINT AS requests, sum(bytes)::BIGINT AS bytes, sum(latency_ms) AS latency_total,
                   {firstAt} AS first_at, max(page) AS last_page, count(DISTINCT user_id)::BIGINT AS users
            FROM {raw} GROUP BY ALL ORDER BY ALL
            """;
        var os = $"SELECT os, max(latency_ms) AS slowest, count(DISTINCT user_id)::BIGINT AS users, count(*)::BIGINT AS requests FROM {raw} GROUP BY ALL ORDER BY ALL";
        foreach (var (table, sql, format) in new[]
        {
            ("by_country", Country("min(at_instant)"), "PARQUET"),
            ("by_country_lines", Country("strftime(min(at_instant), '%Y-%m-%dT%H:%M:%S.%fZ')"), "JSON"),
            ("by_os", os, "JSON"),
        })
        {
            var file = Path.Combine(root, DataLayout.TablePartitionPrefix(table, hour), format == "PARQUET" ? "part-00000.parquet" : "part-00000.json");
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            Execute(connection, "SET TimeZone = 'UTC'");
            Execute(connection, $"COPY ({sql}) TO '{Escape(file)}' (FORMAT {format})");
            using var count = connection.CreateCommand();
            count.CommandText = $"SELECT count(*) FROM ({sql})";
            var key = Path.GetRelativePath(root, file).Replace('\\', '/');
            outputs.Add(new TableOutput(table, Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture), file, key, new FileInfo(file).Length));
        }
        return outputs;
    }

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string Escape(string text) => text.Replace("'", "''", StringComparison.Ordinal);
}

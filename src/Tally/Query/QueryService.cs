using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;
using DuckDB.NET.Native;
using Tally.Metastore;

namespace Tally.Query;

/// <summary>
/// SQL over the catalog's tables, the embedded counterpart of Athena: an in-process DuckDB where each catalog database is a
/// schema and each table a view over its files (Hive partition columns as zero-padded strings, after the data columns),
/// so the seed's queries run verbatim: <c>SELECT * FROM "demo-aggregated-data"."hits_by_country";</c>.
/// </summary>
/// <remarks>
/// Read-only: a statement runs only when DuckDB's own parser says it is exactly one SELECT (json_serialize_sql); anything
/// else (COPY, CREATE, INSERT, ATTACH, INSTALL, LOAD, SET, PRAGMA, several statements) is refused before it runs. The
/// statement then runs with external access limited to the data folder, extension loading off and the configuration
/// locked. A filter on partition columns (<c>WHERE year = '2026' AND hour = '13'</c>) reads only the matching files.
/// Views see the aggregated files present when the service was opened, through a snapshot of hard links
/// (<see cref="FileSnapshot"/>): a query running while another process rewrites an hour sees the old or the new file,
/// never a mix. Open a service per request to see newer files. One connection: an instance is not thread-safe.
/// </remarks>
public sealed class QueryService : IDisposable
{
    private static readonly string[] RawPatterns = ["*.json", "*.json.gz", "*.jsonl", "*.jsonl.gz", "*.ndjson", "*.ndjson.gz"];

    private readonly DuckDBConnection _connection;

    private readonly FileSnapshot? _snapshot;

    private QueryService(DuckDBConnection connection, FileSnapshot? snapshot, IReadOnlyList<CatalogTable> tables)
    {
        _connection = connection;
        _snapshot = snapshot;
        Tables = tables;
    }

    /// <summary>The folder under the data root where the per-service snapshots of the aggregated tables' files (hard links) live while it is open.</summary>
    public const string SnapshotsFolder = ".tally/snapshots";

    /// <summary>The tables the service has views for.</summary>
    public IReadOnlyList<CatalogTable> Tables { get; }

    /// <summary>Opens DuckDB in memory and creates a schema per catalog database and a view per table over the files under <paramref name="dataRoot"/>.</summary>
    /// <param name="dataRoot">The local data folder the catalog's locations are relative to.</param>
    public static async Task<QueryService> OpenAsync(Catalog catalog, string dataRoot, CancellationToken cancellationToken = default)
    {
        var databases = await catalog.ListDatabasesAsync(cancellationToken).ConfigureAwait(false);
        var tables = (await catalog.ListTablesAsync(cancellationToken).ConfigureAwait(false)).Select(s => s.Table).ToList();
        var root = Path.GetFullPath(dataRoot).Replace('\\', '/').TrimEnd('/');
        bool IsRaw(CatalogTable t) => t.Database == catalog.Options.RawDatabase && t.Name == catalog.Options.RawTable;
        // Aggregated partitions are replaced in place by reruns: read them through a snapshot. Raw files are only added.
        var snapshot = FileSnapshot.TryCreate(root, Path.Combine(root, SnapshotsFolder),
            tables.Where(t => !IsRaw(t)).Select(t => (t.Location, t.PartitionKeys.Count)));
        var connection = new DuckDBConnection("Data Source=:memory:");
        try
        {
            connection.Open();
            Execute(connection, "SET autoinstall_known_extensions = false; SET autoload_known_extensions = false;");
            // DuckDB caches file blocks by path; a partition replaced by a rename must never be read partly from the old file.
            Execute(connection, "SET enable_external_file_cache = false;");
            foreach (var database in databases) Execute(connection, $"CREATE SCHEMA {Identifier(database)}");
            foreach (var table in tables)
            {
                var files = IsRaw(table) ? root : snapshot?.Root.Replace('\\', '/') ?? root;
                Execute(connection, $"CREATE VIEW {Identifier(table.Database)}.{Identifier(table.Name)} AS {ViewQuery(connection, table, files, IsRaw(table))}");
            }
            Execute(connection, $"""
                SET allowed_directories = [{Literal(root + "/")}];
                SET enable_external_access = false;
                SET lock_configuration = true;
                """);
            return new QueryService(connection, snapshot, tables);
        }
        catch (DuckDBException e)
        {
            connection.Dispose();
            snapshot?.Dispose();
            throw TallyException.Transient($"Cannot open the tables for SQL: {FirstLine(e.Message)}", e);
        }
        catch
        {
            connection.Dispose();
            snapshot?.Dispose();
            throw;
        }
    }

    /// <summary>Runs one read-only SELECT statement and streams its rows.</summary>
    /// <exception cref="TallyException">InvalidArgument when the statement is not valid SQL, is not one SELECT, or fails;
    /// NotFound when it names a table or schema that does not exist; Transient when reading a file fails.</exception>
    /// <exception cref="OperationCanceledException">When <paramref name="cancellationToken"/> interrupts the query.</exception>
    public QueryResult Execute(string sql, CancellationToken cancellationToken = default)
    {
        EnsureReadOnly(sql);
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.UseStreamingMode = true;
        using var interrupt = cancellationToken.Register(command.Cancel);
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            return new QueryResult(command, command.ExecuteReader(), e => Translate(e, cancellationToken));
        }
        catch (Exception e) when (e is not TallyException and not OperationCanceledException)
        {
            command.Dispose();
            throw Translate(e, cancellationToken);
        }
    }

    /// <summary>Refuses anything but exactly one SELECT, using DuckDB's own parser (json_serialize_sql serializes only SELECT statements).</summary>
    private void EnsureReadOnly(string sql)
    {
        if (string.IsNullOrWhiteSpace(sql)) throw TallyException.InvalidArgument("The query is empty; give one SELECT statement.");
        string json;
        using (var command = _connection.CreateCommand())
        {
            command.CommandText = "SELECT json_serialize_sql(CAST($1 AS VARCHAR))";
            command.Parameters.Add(new DuckDBParameter(sql));
            json = (string)command.ExecuteScalar()!;
        }
        using var doc = JsonDocument.Parse(json);
        var result = doc.RootElement;
        if (result.GetProperty("error").GetBoolean())
        {
            var message = result.TryGetProperty("error_message", out var m) ? m.GetString() ?? "" : "";
            if (message.StartsWith("Only SELECT", StringComparison.Ordinal))
            {
                var keyword = FirstKeyword(sql);
                throw TallyException.InvalidArgument(keyword is "SELECT" or "WITH" or "FROM" or "VALUES" or "("
                    ? "A statement other than SELECT is refused: tally query is read-only and runs one SELECT query."
                    : $"{keyword} statements are refused: tally query is read-only and runs one SELECT query.");
            }
            throw TallyException.InvalidArgument($"The query is not valid SQL: {FirstLine(message)}");
        }
        var count = result.GetProperty("statements").GetArrayLength();
        if (count != 1) throw TallyException.InvalidArgument($"The query has {count} statements; tally query runs exactly one SELECT statement.");
    }

    private static Exception Translate(Exception e, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return new OperationCanceledException("The query was cancelled.", e, cancellationToken);
        if (e is not DuckDBException duck) return e;
        var message = FirstLine(duck.Message);
        // Errors raised while preparing carry no error type; their message starts with it ("Catalog Error: …").
        var type = duck.ErrorType != DuckDBErrorType.Invalid ? duck.ErrorType
            : message.StartsWith("Catalog Error", StringComparison.Ordinal) ? DuckDBErrorType.Catalog
            : message.StartsWith("Permission Error", StringComparison.Ordinal) ? DuckDBErrorType.Permission
            : message.StartsWith("IO Error", StringComparison.Ordinal) ? DuckDBErrorType.Io
            : message.StartsWith("INTERRUPT Error", StringComparison.OrdinalIgnoreCase) ? DuckDBErrorType.Interrupt
            : DuckDBErrorType.Invalid;
        return type switch
        {
            DuckDBErrorType.Catalog => TallyException.NotFound($"The query names something that does not exist: {message}"),
            DuckDBErrorType.Io => TallyException.Transient($"The query could not read its files: {message}", duck),
            DuckDBErrorType.Interrupt => new OperationCanceledException("The query was interrupted.", duck),
            DuckDBErrorType.Permission => TallyException.InvalidArgument($"The query was refused: {message} (tally query reads only the data folder)."),
            _ => TallyException.InvalidArgument($"The query failed: {message}"),
        };
    }

    /// <summary>
    /// The view's query: the table's columns (as the catalog types them) and then its partition columns (strings), read
    /// with <c>read_parquet</c> or <c>read_json</c> over every partition's files; a table with no files is an empty
    /// relation of the same columns.
    /// </summary>
    internal static string ViewQuery(DuckDBConnection connection, CatalogTable table, string root, bool isRaw)
    {
        var depth = string.Concat(Enumerable.Repeat("*/", table.PartitionKeys.Count));
        var folder = $"{root}/{table.Location}/{depth}";
        var patterns = (isRaw ? RawPatterns : [table.Format == "parquet" ? "*.parquet" : "*.json"])
            .Select(p => folder + p)
            .Where(p => HasFiles(connection, p))
            .ToList();
        var keys = table.PartitionKeys.Select(k => Identifier(k.Name)).ToList();
        if (patterns.Count == 0)
        {
            var empty = table.Columns.Concat(table.PartitionKeys).Select(c => $"CAST(NULL AS {DuckType(c.CatalogType)}) AS {Identifier(c.Name)}");
            return $"SELECT {string.Join(", ", empty)} WHERE false";
        }

        var files = "[" + string.Join(", ", patterns.Select(Literal)) + "]";
        var hive = "hive_partitioning = true, hive_types = {" + string.Join(", ", table.PartitionKeys.Select(k => $"{Literal(k.Name)}: VARCHAR")) + "}";
        if (table.Format == "parquet")
        {
            var columns = table.Columns.Select(c => Identifier(c.Name)).Concat(keys);
            return $"SELECT {string.Join(", ", columns)} FROM read_parquet({files}, {hive})";
        }
        if (isRaw)
        {
            // The raw files' keys are the JSON field names (GroupID, …); the catalog exposes them lower-case, as Glue does.
            var fields = RawSchema.Fields.Where(f => table.Columns.Any(c => c.Name == f.Column)).ToList();
            var spec = "{" + string.Join(", ", fields.Select(f => $"{Literal(f.Name)}: {Literal(DuckType(f.CatalogType))}")) + "}";
            var columns = fields.Select(f => $"{Identifier(f.Name)} AS {Identifier(f.Column)}").Concat(keys);
            return $"SELECT {string.Join(", ", columns)} FROM read_json({files}, format = 'auto', columns = {spec}, ignore_errors = true, {hive})";
        }
        var jsonColumns = "{" + string.Join(", ", table.Columns.Select(c => $"{Literal(c.Name)}: {Literal(DuckType(c.CatalogType))}")) + "}";
        var selected = table.Columns.Select(c => Identifier(c.Name)).Concat(keys);
        return $"SELECT {string.Join(", ", selected)} FROM read_json({files}, format = 'newline_delimited', columns = {jsonColumns}, {hive})";
    }

    private static bool HasFiles(DuckDBConnection connection, string pattern)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT EXISTS (SELECT 1 FROM glob({Literal(pattern)}))";
        return (bool)command.ExecuteScalar()!;
    }

    private static string DuckType(string catalogType) => catalogType switch
    {
        "bigint" => "BIGINT",
        "string" => "VARCHAR",
        _ => throw TallyException.InvalidConfiguration($"The catalog type '{catalogType}' has no DuckDB type."),
    };

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    internal static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    internal static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();

    /// <summary>The statement's first keyword, upper-case, skipping comments: what a refusal names.</summary>
    private static string FirstKeyword(string sql)
    {
        var s = sql.AsSpan();
        while (true)
        {
            s = s.TrimStart();
            if (s.StartsWith("--")) s = s.IndexOf('\n') is var n and >= 0 ? s[(n + 1)..] : [];
            else if (s.StartsWith("/*")) s = s.IndexOf("*/") is var n and >= 0 ? s[(n + 2)..] : [];
            else break;
        }
        var word = new StringBuilder();
        foreach (var c in s)
        {
            if (!char.IsAsciiLetter(c)) break;
            word.Append(char.ToUpperInvariant(c));
        }
        return word.Length > 0 ? word.ToString() : "Such";
    }

    public void Dispose()
    {
        _connection.Dispose();
        _snapshot?.Dispose();
    }
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Data.Sqlite;
using Tally.Engine;
using Tally.State;
using Tally.Storage;
using static Tally.State.StateDatabase;

namespace Tally.Metastore;

/// <summary>
/// The metastore: databases, tables (location, format, columns, partition keys) and partitions (values, location, rows,
/// bytes, the run that wrote them, an input fingerprint, time) in one SQLite file, the embedded counterpart of the Glue
/// Data Catalog. The file lives in a state directory (by default <c>&lt;data&gt;/.tally/metastore.db</c>) that can stay
/// local when the data moves to S3.
/// </summary>
/// <remarks>
/// The file is in WAL mode with a busy timeout: one writer and any number of readers, in this or other processes, work at
/// once; readers see the last committed state. Every operation opens its own connection, so an instance is safe to use
/// from several threads.
/// </remarks>
public sealed partial class Catalog
{
    /// <summary>The metastore file's name inside the state directory.</summary>
    internal const string FileName = StateDatabase.FileName;

    private readonly StateDatabase _db;
    private readonly IObjectStore _store;
    private readonly TallyOptions _options;
    private readonly TimeProvider _time;

    private Catalog(StateDatabase db, IObjectStore store, TallyOptions options, TimeProvider time)
    {
        _db = db;
        _store = store;
        _options = options;
        _time = time;
    }

    /// <summary>The metastore file.</summary>
    public string FilePath => _db.FilePath;

    /// <summary>The options whose databases and tables this catalog registers.</summary>
    internal TallyOptions Options => _options;

    /// <summary>
    /// Opens (creating or migrating when needed) the metastore in <paramref name="stateDirectory"/>, and registers the raw
    /// table and the configured aggregated tables with their schemas (replacing a definition that changed).
    /// </summary>
    /// <exception cref="TallyException">Transient when the file cannot be created or stays locked; InvalidConfiguration
    /// when it was written by a newer Tally.</exception>
    public static async Task<Catalog> OpenAsync(string stateDirectory, IObjectStore store, TallyOptions options,
        TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        var db = await StateDatabase.OpenAsync(stateDirectory, cancellationToken).ConfigureAwait(false);
        return await OpenAsync(db, store, options, time, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The catalog in the metastore <paramref name="db"/> (opened with the <c>State</c> settings), registering the
    /// raw table and the configured aggregated tables as <see cref="OpenAsync(string, IObjectStore, TallyOptions, TimeProvider?, CancellationToken)"/> does.</summary>
    /// <exception cref="TallyException">Transient when the file stays locked.</exception>
    public static async Task<Catalog> OpenAsync(StateDatabase db, IObjectStore store, TallyOptions options,
        TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var catalog = new Catalog(db, store, options, time ?? TimeProvider.System);
        await catalog.RegisterTablesAsync(cancellationToken).ConfigureAwait(false);
        return catalog;
    }

    /// <summary>A new run id: the UTC time to the millisecond and a random suffix, so that ids sort by start time.</summary>
    public static string NewRunId(TimeProvider time) =>
        string.Create(CultureInfo.InvariantCulture, $"run-{time.GetUtcNow():yyyyMMdd'T'HHmmssfff'Z'}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}");

    /// <summary>
    /// Records what a run wrote: registers (or replaces) each table partition of <paramref name="report"/> with its rows,
    /// bytes, <paramref name="runId"/> and input fingerprint, and rediscovers the raw partitions (minutes) of its hour.
    /// A failed run wrote no tables; its hour's raw partitions are still refreshed. One transaction.
    /// </summary>
    public async Task RecordRunAsync(RunReport report, string runId, CancellationToken cancellationToken = default)
    {
        var hour = HourWindow.Parse(report.TargetHour);
        var raw = await ScanRawAsync(hour, cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        await _db.WriteAsync(async (connection, transaction) =>
        {
        foreach (var table in report.Tables)
        {
            var partition = new CatalogPartition(DataLayout.HourPartitionValues(hour), DataLayout.TablePartitionPrefix(table.Table, hour),
                table.Rows, table.Bytes, runId, report.InputFingerprint, now);
            await UpsertPartitionAsync(connection, transaction, _options.AggregatedDatabase, table.Table, hour, partition, cancellationToken).ConfigureAwait(false);
        }
        await ReplaceRawPartitionsAsync(connection, transaction, hour, raw, cancellationToken).ConfigureAwait(false);
        return 0;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Discovers the raw table's partitions from the folders, down to the minute
    /// (<c>raw_data/year=/month=/day=/hour=/minute=</c>, padded or not), and replaces the registered ones: those of
    /// <paramref name="hour"/>, or all of them when it is null. Returns how many partitions were found.
    /// </summary>
    public async Task<int> DiscoverRawPartitionsAsync(HourWindow? hour, CancellationToken cancellationToken = default)
    {
        var raw = await ScanRawAsync(hour, cancellationToken).ConfigureAwait(false);
        await _db.WriteAsync(async (connection, transaction) =>
        {
            await ReplaceRawPartitionsAsync(connection, transaction, hour, raw, cancellationToken).ConfigureAwait(false);
            return 0;
        }, cancellationToken).ConfigureAwait(false);
        return raw.Count;
    }

    /// <summary>Every database name, sorted.</summary>
    internal Task<IReadOnlyList<string>> ListDatabasesAsync(CancellationToken cancellationToken = default) => _db.ReadAsync(async connection =>
    {
        var names = new List<string>();
        await using var reader = await Command(connection, null, "SELECT name FROM databases ORDER BY name").ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) names.Add(reader.GetString(0));
        return (IReadOnlyList<string>)names;
    }, cancellationToken);

    /// <summary>Every table with its partition count, rows (null when unknown) and bytes, sorted by database and name.</summary>
    public Task<IReadOnlyList<CatalogTableSummary>> ListTablesAsync(CancellationToken cancellationToken = default) => _db.ReadAsync(async connection =>
    {
        var command = Command(connection, null, """
            SELECT t.database_name, t.name, t.location, t.format, t.columns, t.partition_keys, t.updated_at,
                   count(p.location), sum(p.row_count), coalesce(sum(p.bytes), 0)
            FROM tables t LEFT JOIN partitions p ON p.database_name = t.database_name AND p.table_name = t.name
            GROUP BY t.database_name, t.name
            ORDER BY t.database_name, t.name
            """);
        var tables = new List<CatalogTableSummary>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            tables.Add(new CatalogTableSummary(ReadTable(reader), reader.GetInt64(7), reader.IsDBNull(8) ? null : reader.GetInt64(8), reader.GetInt64(9)));
        }
        return (IReadOnlyList<CatalogTableSummary>)tables;
    }, cancellationToken);

    /// <summary>The table <paramref name="database"/>.<paramref name="table"/>, or null when it is not registered.</summary>
    public Task<CatalogTable?> FindTableAsync(string database, string table, CancellationToken cancellationToken = default) => _db.ReadAsync(async connection =>
    {
        var command = Command(connection, null,
            "SELECT database_name, name, location, format, columns, partition_keys, updated_at FROM tables WHERE database_name = $db AND name = $name",
            ("$db", database), ("$name", table));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadTable(reader) : null;
    }, cancellationToken);

    /// <summary>The registered partitions of a table, newest partition first.</summary>
    public Task<IReadOnlyList<CatalogPartition>> ListPartitionsAsync(string database, string table, CancellationToken cancellationToken = default) => _db.ReadAsync(async connection =>
    {
        var command = Command(connection, null, """
            SELECT partition_values, location, row_count, bytes, run_id, input_fingerprint, written_at
            FROM partitions WHERE database_name = $db AND table_name = $name
            ORDER BY partition_hour DESC, location DESC
            """, ("$db", database), ("$name", table));
        var partitions = new List<CatalogPartition>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            partitions.Add(new CatalogPartition(
                JsonSerializer.Deserialize(reader.GetString(0), CatalogJson.Default.StringArray)!, reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetInt64(2), reader.GetInt64(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5),
                ParseTime(reader.GetString(6))));
        }
        return (IReadOnlyList<CatalogPartition>)partitions;
    }, cancellationToken);

    /// <summary>
    /// The tables this catalog defines from its options: the raw table (a column per declared source field, its column name
    /// and catalog type; a timestamp is the text as it came, so <c>string</c>), then the aggregated tables as
    /// <see cref="TallyOptions.Tables"/> resolves them (group-by columns, then metric columns).
    /// </summary>
    internal IReadOnlyList<CatalogTable> ConfiguredTables(DateTimeOffset now)
    {
        var hourKeys = DataLayout.HourKeys.Select(k => new TableColumn(k.Key, CatalogTypes.String)).ToList();
        var tables = new List<CatalogTable>
        {
            new(_options.RawDatabase, _options.RawTable, DataLayout.RawPrefix, "json",
                _options.Source.Fields.Select(f => new TableColumn(f.Column, f.CatalogType)).ToList(),
                [.. hourKeys, new TableColumn("minute", CatalogTypes.String)], now),
        };
        tables.AddRange(_options.Tables().Select(table => new CatalogTable(
            _options.AggregatedDatabase, table.Table, $"{DataLayout.AggregatedPrefix}/{table.Table}", table.Spec.FileExtension, table.Columns, hourKeys, now)));
        return tables;
    }

    private async Task RegisterTablesAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var wanted = ConfiguredTables(now);
        var existing = (await ListTablesAsync(cancellationToken).ConfigureAwait(false)).Select(s => s.Table).ToList();
        var changed = wanted.Where(w => !existing.Any(e => SameDefinition(e, w))).ToList();
        // Most opens change nothing: only take the write lock when a definition is new or different.
        if (changed.Count == 0) return;

        await _db.WriteAsync(async (connection, transaction) =>
        {
        foreach (var table in changed)
        {
            await Command(connection, transaction, "INSERT INTO databases (name, created_at) VALUES ($db, $now) ON CONFLICT DO NOTHING",
                ("$db", table.Database), ("$now", FormatTime(now))).ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await Command(connection, transaction, """
                INSERT INTO tables (database_name, name, location, format, columns, partition_keys, updated_at)
                VALUES ($db, $name, $location, $format, $columns, $keys, $now)
                ON CONFLICT (database_name, name) DO UPDATE SET location = excluded.location, format = excluded.format,
                    columns = excluded.columns, partition_keys = excluded.partition_keys, updated_at = excluded.updated_at
                """,
                ("$db", table.Database), ("$name", table.Name), ("$location", table.Location), ("$format", table.Format),
                ("$columns", ColumnsJson(table.Columns)), ("$keys", ColumnsJson(table.PartitionKeys)), ("$now", FormatTime(now)))
                .ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        return 0;
        }, cancellationToken).ConfigureAwait(false);
    }

    private static bool SameDefinition(CatalogTable a, CatalogTable b) =>
        a.Database == b.Database && a.Name == b.Name && a.Location == b.Location && a.Format == b.Format
        && a.Columns.SequenceEqual(b.Columns) && a.PartitionKeys.SequenceEqual(b.PartitionKeys);

    private static async Task UpsertPartitionAsync(SqliteConnection connection, SqliteTransaction transaction, string database, string table,
        HourWindow hour, CatalogPartition p, CancellationToken cancellationToken)
    {
        await Command(connection, transaction, """
            INSERT INTO partitions (database_name, table_name, partition_values, partition_hour, location, row_count, bytes, run_id, input_fingerprint, written_at)
            VALUES ($db, $table, $values, $hour, $location, $rows, $bytes, $run, $fingerprint, $at)
            ON CONFLICT (database_name, table_name, partition_values) DO UPDATE SET
                partition_hour = excluded.partition_hour, location = excluded.location, row_count = excluded.row_count, bytes = excluded.bytes,
                run_id = excluded.run_id, input_fingerprint = excluded.input_fingerprint, written_at = excluded.written_at
            """,
            ("$db", database), ("$table", table), ("$values", JsonSerializer.Serialize(p.Values, CatalogJson.Default.IReadOnlyListString)), ("$hour", hour.ToString()),
            ("$location", p.Location), ("$rows", p.Rows), ("$bytes", p.Bytes), ("$run", p.RunId), ("$fingerprint", p.InputFingerprint),
            ("$at", FormatTime(p.WrittenAt))).ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task ReplaceRawPartitionsAsync(SqliteConnection connection, SqliteTransaction transaction, HourWindow? hour,
        IReadOnlyList<(HourWindow Hour, CatalogPartition Partition)> found, CancellationToken cancellationToken)
    {
        var delete = hour is { } h
            ? Command(connection, transaction, "DELETE FROM partitions WHERE database_name = $db AND table_name = $table AND partition_hour = $hour",
                ("$db", _options.RawDatabase), ("$table", _options.RawTable), ("$hour", h.ToString()))
            : Command(connection, transaction, "DELETE FROM partitions WHERE database_name = $db AND table_name = $table",
                ("$db", _options.RawDatabase), ("$table", _options.RawTable));
        await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        foreach (var (partitionHour, partition) in found)
        {
            await UpsertPartitionAsync(connection, transaction, _options.RawDatabase, _options.RawTable, partitionHour, partition, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The raw minute folders holding data files, of one hour or of all hours, each with its files' bytes and fingerprint.</summary>
    private async Task<IReadOnlyList<(HourWindow Hour, CatalogPartition Partition)>> ScanRawAsync(HourWindow? hour, CancellationToken cancellationToken)
    {
        var files = new List<ObjectInfo>();
        if (hour is { } h)
        {
            files.AddRange(await RawFiles.ListAsync(_store, h, cancellationToken).ConfigureAwait(false));
        }
        else
        {
            await foreach (var file in _store.ListAsync(DataLayout.RawPrefix + "/", cancellationToken).ConfigureAwait(false))
            {
                if (DataLayout.TryParseRawKey(file.Key, out _, out _) && file.Key.Count(c => c == '/') == 6 && DataLayout.IsRawDataFile(file.Key[(file.Key.LastIndexOf('/') + 1)..]))
                {
                    files.Add(file);
                }
            }
        }
        return files
            .GroupBy(f => f.Key[..f.Key.LastIndexOf('/')], StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g =>
            {
                DataLayout.TryParseRawKey(g.First().Key, out var partitionHour, out _);
                var values = g.Key.Split('/').Skip(1).Select(segment => segment[(segment.IndexOf('=') + 1)..]).ToArray();
                var group = g.ToList();
                return (partitionHour, new CatalogPartition(values, g.Key, null, group.Sum(f => f.Size), null,
                    RawFiles.Fingerprint(group), group.Max(f => f.LastModified).ToUniversalTime()));
            })
            .ToList();
    }

    private static CatalogTable ReadTable(SqliteDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
        ParseColumns(reader.GetString(4)), ParseColumns(reader.GetString(5)), ParseTime(reader.GetString(6)));

    private static string ColumnsJson(IReadOnlyList<TableColumn> columns) =>
        JsonSerializer.Serialize(columns.Select(c => new ColumnDto(c.Name, c.CatalogType)).ToList(), CatalogJson.Default.ListColumnDto);

    private static IReadOnlyList<TableColumn> ParseColumns(string json) =>
        JsonSerializer.Deserialize(json, CatalogJson.Default.ListColumnDto)!.Select(c => new TableColumn(c.Name, c.Type)).ToList();



    /// <summary>The catalog's JSON columns (partition values, column lists), written by code generated at build time.</summary>
    [JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
    [JsonSerializable(typeof(string[]))]
    [JsonSerializable(typeof(IReadOnlyList<string>))]
    [JsonSerializable(typeof(List<ColumnDto>))]
    private sealed partial class CatalogJson : JsonSerializerContext;

    private sealed record ColumnDto(string Name, string Type);
}

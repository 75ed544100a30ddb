using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;
using DuckDB.NET.Native;
using Tally.Engine;
using Tally.Metastore;
using Tally.Storage;

namespace Tally.Query;

/// <summary>
/// SQL over the catalog's tables, the embedded counterpart of Athena: an in-process DuckDB where each catalog database is a
/// schema and each table a view over its files (Hive partition columns as zero-padded strings, after the data columns),
/// so the seed's queries run verbatim: <c>SELECT * FROM "demo-aggregated-data"."hits_by_country";</c>.
/// </summary>
/// <remarks>
/// Each view has the catalog's columns with their catalog types as DuckDB types (string VARCHAR, bigint BIGINT, double
/// DOUBLE, boolean BOOLEAN, timestamp TIMESTAMP). A timestamp is UTC: the session's time zone is UTC, whatever the machine's,
/// so a Parquet timestamp (adjusted to UTC) and a JSON one (ISO-8601 text with its offset) are the same instant shown the
/// same way. The raw table's view reads the declared source fields (<see cref="TallyOptions.Source"/>) by their JSON names,
/// a dotted name through the nested objects, under their column names. Only the configured raw table has a view: a table
/// registered at the raw files' location under another name (an earlier <c>Catalog:RawDatabase</c>) is left out.
/// <para>
/// Read-only: a statement runs only when DuckDB's own parser says it is exactly one SELECT (json_serialize_sql); anything
/// else (COPY, CREATE, INSERT, ATTACH, INSTALL, LOAD, SET, PRAGMA, several statements) is refused before it runs. The
/// statement then runs with external access limited to the data folder, extension loading off and the configuration
/// locked. A filter on partition columns (<c>WHERE year = '2026' AND hour = '13'</c>) reads only the matching files: the
/// view is narrowed to the matching partitions before the query runs (<see cref="PartitionFilter"/>), and DuckDB prunes
/// files by the Hive columns in any case.
/// Views see the aggregated files present when the service was opened, through a snapshot of hard links
/// (<see cref="FileSnapshot"/>): a query running while another process rewrites an hour sees the old or the new file,
/// never a mix. Open a service per request to see newer files. One connection: an instance is not thread-safe.
/// </para>
/// <para>
/// Limits (<see cref="QueryLimits"/>): a statement still running after the time limit is interrupted (within a few
/// milliseconds: DuckDB checks between vectors of rows) and fails with a Timeout error; the database has DuckDB's
/// <c>memory_limit</c> and <c>threads</c>, and never spills to disk (no temporary directory), so a statement that needs more
/// memory fails at once instead of filling the disk.
/// </para>
/// </remarks>
public sealed class QueryService : IDisposable
{
    private readonly DuckDBConnection _connection;
    private readonly QueryLimits? _limits;

    private readonly FileSnapshot? _snapshot;
    private readonly string _root;
    private readonly string _fileRoot;
    private readonly IReadOnlyDictionary<CatalogTable, IReadOnlyList<string>> _files;
    private readonly Dictionary<CatalogTable, string> _views = [];
    private readonly SourceSchema _source;
    private CatalogTable? _pendingRaw;
    private Action? _beforeRaw;

    private QueryService(DuckDBConnection connection, QueryLimits? limits, FileSnapshot? snapshot, string root, string fileRoot,
        IReadOnlyDictionary<CatalogTable, IReadOnlyList<string>> files, IReadOnlyList<CatalogTable> tables, CatalogTable? raw, SourceSchema source)
    {
        _connection = connection;
        _limits = limits;
        _source = source;
        _snapshot = snapshot;
        _root = root;
        _fileRoot = fileRoot;
        _files = files;
        _pendingRaw = raw;
        Tables = tables;
    }

    /// <summary>The folder under the data root where the per-service snapshots of the aggregated tables' files (hard links) live while it is open.</summary>
    internal const string SnapshotsFolder = ".tally/snapshots";

    /// <summary>The tables the service has views for.</summary>
    internal IReadOnlyList<CatalogTable> Tables { get; }

    /// <summary>
    /// Opens DuckDB in memory and creates a schema per catalog database and a view per table over the files under
    /// <paramref name="dataRoot"/>. The aggregated tables' views read the files present now (pinned by a snapshot); the raw
    /// table's view is built the first time a query names it.
    /// </summary>
    /// <param name="dataRoot">The local data folder the catalog's locations are relative to.</param>
    /// <param name="limits">The time, memory and thread limits; null for none (DuckDB's defaults: every core, 80 % of the memory).</param>
    public static async Task<QueryService> OpenAsync(Catalog catalog, string dataRoot, QueryLimits? limits = null, CancellationToken cancellationToken = default)
    {
        var databases = await catalog.ListDatabasesAsync(cancellationToken).ConfigureAwait(false);
        var tables = await QueryableTablesAsync(catalog, cancellationToken).ConfigureAwait(false);
        var root = Path.GetFullPath(dataRoot).Replace('\\', '/').TrimEnd('/');
        var source = catalog.Options.Source;
        bool IsRaw(CatalogTable t) => IsConfiguredRaw(catalog, t);

        // Aggregated partitions are replaced in place by reruns: list their files once and read them through a snapshot.
        var files = tables.Where(t => !IsRaw(t)).ToDictionary(t => t, t => TableFiles(root, t));
        var snapshot = FileSnapshot.TryCreate(root, Path.Combine(root, SnapshotsFolder), files.Values.SelectMany(f => f));
        var fileRoot = snapshot?.Root.Replace('\\', '/') ?? root;
        // threads from the start: DuckDB starts its worker threads when the database opens.
        var connection = new DuckDBConnection(limits is { Threads: > 0 } ? $"Data Source=:memory:;threads={limits.Threads}" : "Data Source=:memory:");
        try
        {
            connection.Open();
            Execute(connection, "SET autoinstall_known_extensions = false; SET autoload_known_extensions = false;");
            // No temporary directory: beyond its memory a statement fails instead of writing up to 90 % of the free disk
            // space under ./.tmp, DuckDB's default for an in-memory database.
            Execute(connection, "SET temp_directory = '';");
            if (limits is not null) Execute(connection, $"SET memory_limit = '{limits.MemoryLimit}B';");
            // DuckDB caches file blocks by path; a partition replaced by a rename must never be read partly from the old file.
            Execute(connection, "SET enable_external_file_cache = false;");
            // Timestamps are UTC everywhere in Tally; DuckDB would otherwise convert and show them in the machine's zone.
            Execute(connection, "SET TimeZone = 'UTC';");
            foreach (var database in databases) Execute(connection, $"CREATE SCHEMA {Identifier(database)}");
            var views = files.ToDictionary(f => f.Key, f => ViewQuery(f.Key, f.Value.Select(k => $"{fileRoot}/{k}").ToList()));
            foreach (var (table, query) in views) CreateView(connection, table, query);
            var raw = tables.FirstOrDefault(IsRaw);
            // Until a query names it, the raw table is an empty view of its columns: finding its files walks every minute folder.
            if (raw is not null) CreateView(connection, raw, ViewQuery(raw, []));
            Execute(connection, $"""
                SET allowed_directories = [{Literal(root + "/")}];
                SET enable_external_access = false;
                SET lock_configuration = true;
                """);
            var service = new QueryService(connection, limits, snapshot, root, fileRoot, files.ToDictionary(f => f.Key, f => f.Value), tables, raw, source);
            foreach (var (table, query) in views) service._views[table] = query;
            return service;
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

    /// <summary>
    /// Opens the service over <paramref name="store"/>: a local folder is read in place (as <see cref="OpenAsync(Catalog, string, QueryLimits?, CancellationToken)"/>);
    /// any other store (S3) is read through a local cache under <paramref name="stateDirectory"/> (<c>cache/</c>): the
    /// aggregated tables' objects are copied there now, and the raw table's the first time a query names it, each
    /// downloaded again only when its ETag changed. Queries then run on the local copies exactly as on a data folder.
    /// </summary>
    /// <exception cref="TallyException">When the store or the cache fails.</exception>
    public static async Task<QueryService> OpenAsync(Catalog catalog, IObjectStore store, string stateDirectory, QueryLimits? limits = null,
        CancellationToken cancellationToken = default)
    {
        if (store is LocalObjectStore local) return await OpenAsync(catalog, local.Root, limits, cancellationToken).ConfigureAwait(false);
        var mirror = new LocalMirror(store, Path.Combine(stateDirectory, "cache"));
        var tables = await QueryableTablesAsync(catalog, cancellationToken).ConfigureAwait(false);
        bool IsRaw(CatalogTable t) => IsConfiguredRaw(catalog, t);
        var lockTimeout = limits?.CacheLockTimeout;
        using (await mirror.LockAsync(cancellationToken, lockTimeout).ConfigureAwait(false))
        {
            foreach (var table in tables.Where(t => !IsRaw(t))) await mirror.SyncAsync(table.Location, cancellationToken).ConfigureAwait(false);
            // The snapshot of the aggregated files is taken under the lock: another process's sync cannot change them meanwhile.
            var service = await OpenAsync(catalog, mirror.Root, limits, cancellationToken).ConfigureAwait(false);
            if (tables.FirstOrDefault(IsRaw) is { } raw)
            {
                service._beforeRaw = () =>
                {
                    using (mirror.LockAsync(cancellationToken, lockTimeout).GetAwaiter().GetResult()) mirror.SyncAsync(raw.Location, cancellationToken).GetAwaiter().GetResult();
                };
            }
            return service;
        }
    }

    /// <summary>
    /// Runs one read-only SELECT statement and streams its rows. The time limit counts from this call until the result is
    /// disposed, its rows read included.
    /// </summary>
    /// <exception cref="TallyException">InvalidArgument when the statement is not valid SQL, is not one SELECT, fails, or
    /// needs more memory than the limit; NotFound when it names a table or schema that does not exist; Transient when
    /// reading a file fails; Timeout when it runs longer than the time limit.</exception>
    /// <exception cref="OperationCanceledException">When <paramref name="cancellationToken"/> interrupts the query.</exception>
    public QueryResult Execute(string sql, CancellationToken cancellationToken = default)
    {
        var deadline = new QueryDeadline(_limits?.Timeout, cancellationToken);
        DuckDBCommand? command = null;
        try
        {
            using (var parsed = EnsureReadOnly(sql)) NarrowViews(parsed.RootElement.GetProperty("statements")[0]);
            if (_pendingRaw is { } raw && sql.Contains(raw.Name, StringComparison.OrdinalIgnoreCase))
            {
                _beforeRaw?.Invoke();
                CreateView(_connection, raw, RawViewQuery(raw, RawFileGroups(_root, raw), _source));
                _pendingRaw = null;
            }
            command = _connection.CreateCommand();
            command.CommandText = sql;
            command.UseStreamingMode = true;
            deadline.Watch(command);
            if (deadline.HasExpired || deadline.IsCancelled) throw new OperationCanceledException();
            return new QueryResult(command, command.ExecuteReader(), deadline, e => Translate(e, deadline));
        }
        catch (Exception e)
        {
            deadline.Dispose();
            command?.Dispose();
            if (e is TallyException) throw;
            throw Translate(e, deadline);
        }
    }

    /// <summary>Refuses anything but exactly one SELECT, using DuckDB's own parser (json_serialize_sql serializes only SELECT statements).</summary>
    private JsonDocument EnsureReadOnly(string sql)
    {
        if (string.IsNullOrWhiteSpace(sql)) throw TallyException.InvalidArgument("The query is empty; give one SELECT statement.");
        string json;
        using (var command = _connection.CreateCommand())
        {
            command.CommandText = "SELECT json_serialize_sql(CAST($1 AS VARCHAR))";
            command.Parameters.Add(new DuckDBParameter(sql));
            json = (string)command.ExecuteScalar()!;
        }
        var doc = JsonDocument.Parse(json);
        try
        {
            Check(doc.RootElement);
            return doc;
        }
        catch
        {
            doc.Dispose();
            throw;
        }

        void Check(JsonElement result)
        {
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
    }

    /// <summary>
    /// Points each aggregated table's view at the partitions the statement can match (see <see cref="PartitionFilter"/>),
    /// or back at all of them; a view is only replaced when its file list changes.
    /// </summary>
    private void NarrowViews(JsonElement statement)
    {
        foreach (var (table, keys) in _files)
        {
            var filter = PartitionFilter.Find(statement, table);
            var chosen = filter is null ? keys : keys.Where(k => PartitionFilter.Matches(k, table, filter)).ToList();
            var query = ViewQuery(table, chosen.Select(k => $"{_fileRoot}/{k}").ToList());
            if (_views.TryGetValue(table, out var current) && current == query) continue;
            CreateView(_connection, table, query);
            _views[table] = query;
        }
    }

    private Exception Translate(Exception e, QueryDeadline deadline)
    {
        if (deadline.HasExpired)
        {
            return TallyException.Timeout(
                $"The query ran longer than its time limit of {Seconds(deadline.Timeout!.Value)} ({QueryLimits.TimeoutKey}) and was interrupted; narrow it (to some partitions, say) or raise the limit.", e);
        }
        if (deadline.IsCancelled) return new OperationCanceledException("The query was cancelled.", e);
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
            DuckDBErrorType.OutOfMemory => TallyException.InvalidArgument(_limits is null
                ? $"The query ran out of memory: {message}"
                : $"The query needs more memory than its limit of {Bytes(_limits.MemoryLimit)} ({QueryLimits.MemoryLimitKey}) and was stopped: {message}"),
            DuckDBErrorType.Permission => TallyException.InvalidArgument($"The query was refused: {message} (tally query reads only the data folder)."),
            _ => TallyException.InvalidArgument($"The query failed: {message}"),
        };
    }

    /// <summary>
    /// A table's view query: the table's columns (as the catalog types them) and then its partition columns (strings),
    /// read with <c>read_parquet</c> or <c>read_json</c> over <paramref name="files"/> (paths or globs); no files give an
    /// empty relation of the same columns (the raw table's too, until a query names it: see <see cref="RawViewQuery"/>).
    /// </summary>
    /// <exception cref="TallyException">InvalidConfiguration when a type has no DuckDB type.</exception>
    internal static string ViewQuery(CatalogTable table, IReadOnlyList<string> files)
    {
        var keys = table.PartitionKeys.Select(k => Identifier(k.Name)).ToList();
        if (files.Count == 0)
        {
            var empty = table.Columns.Concat(table.PartitionKeys).Select(c => $"CAST(NULL AS {DuckType(c.CatalogType)}) AS {Identifier(c.Name)}");
            return $"SELECT {string.Join(", ", empty)} WHERE false";
        }

        var list = FileList(files);
        // Timestamps: a Parquet one adjusted to UTC reads as TIMESTAMPTZ, a JSON one is text with its offset; both become a
        // TIMESTAMP in UTC (the session's zone).
        var selected = table.Columns.Select(c => c.CatalogType == CatalogTypes.Timestamp
            ? $"CAST({Identifier(c.Name)} AS TIMESTAMP) AS {Identifier(c.Name)}" : Identifier(c.Name)).Concat(keys);
        if (table.Format == "parquet")
        {
            return $"SELECT {string.Join(", ", selected)} FROM read_parquet({list}, {HiveOptions(table)})";
        }
        var jsonColumns = "{" + string.Join(", ", table.Columns.Select(c => $"{Literal(c.Name)}: {Literal(c.CatalogType == CatalogTypes.Timestamp ? "TIMESTAMPTZ" : DuckType(c.CatalogType))}")) + "}";
        return $"SELECT {string.Join(", ", selected)} FROM read_json({list}, format = 'newline_delimited', columns = {jsonColumns}, {HiveOptions(table)})";
    }

    /// <summary>
    /// The raw table's view query: one <c>read_json</c> per group of files that DuckDB decompresses alike, as one relation.
    /// The raw files' keys are the declared JSON names (GroupID, geo.country, …); the view exposes them as their columns.
    /// </summary>
    /// <exception cref="TallyException">InvalidConfiguration when two raw fields cannot be told apart by DuckDB.</exception>
    internal static string RawViewQuery(CatalogTable raw, IReadOnlyList<RawFileGroup> groups, SourceSchema source)
    {
        if (groups.Count == 0) return ViewQuery(raw, []);
        var fields = source.Fields.Where(f => raw.Columns.Any(c => c.Name == f.Column)).ToList();
        var spec = RawStruct(fields);
        var columns = string.Join(", ", RawColumns(fields).Select(c => $"{c.Expression} AS {Identifier(c.Column)}").Concat(raw.PartitionKeys.Select(k => Identifier(k.Name))));
        return string.Join(" UNION ALL ", groups.Select(g =>
            $"SELECT {columns} FROM read_json({FileList(g.Files)}, format = 'auto', compression = {Literal(g.Compression)}, columns = {spec}, ignore_errors = true, {HiveOptions(raw)})"));
    }

    /// <summary>Raw files (paths or globs) that DuckDB reads with one <c>compression</c> setting: uncompressed, gzip or zstd.</summary>
    internal sealed record RawFileGroup(string Compression, IReadOnlyList<string> Files);

    private static string FileList(IReadOnlyList<string> files) => "[" + string.Join(", ", files.Select(Literal)) + "]";

    private static string HiveOptions(CatalogTable table) =>
        "hive_partitioning = true, hive_types = {" + string.Join(", ", table.PartitionKeys.Select(k => $"{Literal(k.Name)}: VARCHAR")) + "}";

    /// <summary>
    /// The <c>columns</c> argument of <c>read_json</c> for raw fields: one entry per top-level JSON name, a nested name's
    /// objects as STRUCTs holding the fields inside them (<c>{geo: 'STRUCT("country" VARCHAR, "city" VARCHAR)'}</c>).
    /// DuckDB matches the names exactly, but a STRUCT cannot hold two names that differ only in case.
    /// </summary>
    private static string RawStruct(IReadOnlyList<RawField> fields)
    {
        var root = new JsonObjectType();
        foreach (var field in fields)
        {
            var node = root;
            var path = field.Path;
            for (var i = 0; i < path.Count - 1; i++) node = node.Child(path[i], field);
            node.Add(path[^1], RawDuckType(field.Type), field);
        }
        return "{" + string.Join(", ", root.Members.Select(m => $"{Literal(m.Name)}: {Literal(m.Type)}")) + "}";
    }

    /// <summary>The expression reading each field out of <see cref="RawStruct"/>'s columns: <c>struct_extract("geo", 'country')</c> for a nested one.</summary>
    private static IEnumerable<(string Expression, string Column)> RawColumns(IReadOnlyList<RawField> fields) =>
        fields.Select(f => (f.Path.Skip(1).Aggregate(Identifier(f.Path[0]), (e, name) => $"struct_extract({e}, {Literal(name)})"), f.Column));

    /// <summary>How DuckDB reads a raw field: a timestamp stays the text it came as (the catalog's <c>string</c>).</summary>
    private static string RawDuckType(RawFieldType type) => type switch
    {
        RawFieldType.Int64 => "BIGINT",
        RawFieldType.Double => "DOUBLE",
        RawFieldType.Boolean => "BOOLEAN",
        _ => "VARCHAR",
    };

    /// <summary>A JSON object's declared members, as a DuckDB type built up field by field.</summary>
    private sealed class JsonObjectType
    {
        private readonly List<(string Name, JsonObjectType? Object, string? Type)> _members = [];

        public IEnumerable<(string Name, string Type)> Members => _members.Select(m => (m.Name, m.Type ?? m.Object!.StructType()));

        public JsonObjectType Child(string name, RawField field)
        {
            var existing = _members.FirstOrDefault(m => m.Name == name);
            if (existing.Object is not null) return existing.Object;
            Check(name, field);
            var child = new JsonObjectType();
            _members.Add((name, child, null));
            return child;
        }

        public void Add(string name, string type, RawField field)
        {
            Check(name, field);
            _members.Add((name, null, type));
        }

        private string StructType() => "STRUCT(" + string.Join(", ", Members.Select(m => $"{Identifier(m.Name)} {m.Type}")) + ")";

        private void Check(string name, RawField field)
        {
            if (_members.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase)) is { Name: { } other })
            {
                throw TallyException.InvalidConfiguration(
                    $"The source field '{field.Name}' reaches the JSON name '{name}', which differs from '{other}' only in case; tally query's engine (DuckDB) cannot read both, so rename one in the data or leave one out of Source:Fields.");
            }
        }
    }

    /// <summary>The keys of a table's data files, <c>&lt;location&gt;/k=v/…/&lt;name&gt;.&lt;format&gt;</c> one folder per partition key, sorted.</summary>
    private static IReadOnlyList<string> TableFiles(string root, CatalogTable table)
    {
        var folder = Path.Combine(root, table.Location);
        if (!Directory.Exists(folder)) return [];
        var segments = table.Location.Split('/').Length + table.PartitionKeys.Count + 1;
        return Directory.EnumerateFiles(folder, "*." + table.Format, new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = table.PartitionKeys.Count })
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Where(key => key.Split('/').Length == segments && !Path.GetFileName(key).StartsWith('.') && !Path.GetFileName(key).StartsWith('_'))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// The raw table's data files (<see cref="DataLayout.IsRawDataFile"/>: any name but those starting with <c>.</c> or
    /// <c>_</c>), found in one walk of the minute folders and grouped by what their first bytes say they are, as the engine
    /// tells them (<see cref="RawFileDecoder.Detect"/>): DuckDB's <c>read_json</c> would pick a compression from the file's
    /// extension only, so it is given the compression each file has (a gzip file named without <c>.gz</c>, or a Firehose
    /// object with no extension at all, is read). When every file is of one kind the group is one glob; otherwise it lists
    /// its files.
    /// </summary>
    /// <remarks>
    /// What the view cannot read, and leaves out (the engine reads or rejects these, see the run's quarantine): files whose
    /// first bytes are no JSON text, gzip or zstd — text that does not start with <c>{</c> or <c>[</c>, binary data, other
    /// compressions — since one such file makes DuckDB fail the whole query rather than skip it. DuckDB also fails the query
    /// on a damaged gzip or zstd file, which the engine reads up to the damage.
    /// </remarks>
    private static IReadOnlyList<RawFileGroup> RawFileGroups(string root, CatalogTable raw)
    {
        var folder = Path.Combine(root, raw.Location);
        if (!Directory.Exists(folder)) return [];
        var depth = raw.PartitionKeys.Count;
        var byKind = new Dictionary<RawFileKind, List<string>>();
        var head = new byte[RawFileDecoder.HeadBytes];
        foreach (var file in new DirectoryInfo(folder).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = depth }))
        {
            var relative = Path.GetRelativePath(folder, file.FullName).Replace('\\', '/');
            if (relative.Count(c => c == '/') != depth || !DataLayout.IsRawDataFile(file.Name)) continue;
            // An empty file is not opened (it may be a named pipe, whose opening would wait for a writer).
            var kind = file.Length == 0 ? RawFileKind.Json : KindOf(file.FullName, head);
            if (!byKind.TryGetValue(kind, out var files)) byKind[kind] = files = [];
            files.Add($"{root}/{raw.Location}/{relative}");
        }

        (RawFileKind Kind, string Compression)[] readable = [(RawFileKind.Json, "uncompressed"), (RawFileKind.Gzip, "gzip"), (RawFileKind.Zstd, "zstd")];
        var present = readable.Where(r => byKind.ContainsKey(r.Kind)).ToList();
        if (present.Count == 1 && byKind.Count == 1)
        {
            var folders = string.Concat(Enumerable.Repeat("*/", depth));
            return [new RawFileGroup(present[0].Compression, [$"{root}/{raw.Location}/{folders}[!._]*"])];
        }
        return present.Select(r => new RawFileGroup(r.Compression, byKind[r.Kind].Order(StringComparer.Ordinal).ToList())).ToList();

        static RawFileKind KindOf(string path, byte[] head)
        {
            try
            {
                using var handle = File.OpenHandle(path);
                var length = 0;
                while (length < head.Length && RandomAccess.Read(handle, head.AsSpan(length), length) is var n and > 0) length += n;
                return RawFileDecoder.Detect(head.AsSpan(0, length), isWholeFile: length < head.Length, out _);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return RawFileKind.Unknown; // Gone or unreadable since the walk found it: DuckDB could not read it either.
            }
        }
    }

    private static void CreateView(DuckDBConnection connection, CatalogTable table, string query) =>
        Execute(connection, $"CREATE OR REPLACE VIEW {Identifier(table.Database)}.{Identifier(table.Name)} AS {query}");

    /// <summary>The DuckDB type of a catalog type (see <see cref="CatalogTypes"/>).</summary>
    /// <exception cref="TallyException">InvalidConfiguration for a type Tally does not write.</exception>
    public static string DuckType(string catalogType) => catalogType switch
    {
        CatalogTypes.String => "VARCHAR",
        CatalogTypes.BigInt => "BIGINT",
        CatalogTypes.Double => "DOUBLE",
        CatalogTypes.Boolean => "BOOLEAN",
        CatalogTypes.Timestamp => "TIMESTAMP",
        _ => throw TallyException.InvalidConfiguration($"The catalog type '{catalogType}' has no DuckDB type."),
    };

    private static bool IsConfiguredRaw(Catalog catalog, CatalogTable table) =>
        table.Database == catalog.Options.RawDatabase && table.Name == catalog.Options.RawTable;

    /// <summary>The catalog's tables but those at the raw files' location that are not the configured raw table.</summary>
    private static async Task<List<CatalogTable>> QueryableTablesAsync(Catalog catalog, CancellationToken cancellationToken) =>
        (await catalog.ListTablesAsync(cancellationToken).ConfigureAwait(false)).Select(s => s.Table)
            .Where(t => IsConfiguredRaw(catalog, t) || t.Location != DataLayout.RawPrefix)
            .ToList();

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + " s";

    /// <summary>A size in the largest binary unit that keeps it whole or one decimal: <c>64 MiB</c>, <c>1.5 GiB</c>.</summary>
    private static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        var value = (double)bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return value.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture) + " " + units[unit];
    }

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

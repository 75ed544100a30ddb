namespace Tally.Metastore;

/// <summary>A table as the catalog describes it (the embedded counterpart of a Glue table).</summary>
/// <param name="Database">The catalog database, for example <c>demo-aggregated-data</c>.</param>
/// <param name="Name">The table name.</param>
/// <param name="Location">The key prefix of the table's files, relative to the data root (<c>aggregated_data/hits_by_country</c>).</param>
/// <param name="Format"><c>parquet</c> or <c>json</c> (JSON Lines; raw files may also be other JSON shapes, see DESIGN.md).</param>
/// <param name="Columns">The data columns, in file order.</param>
/// <param name="PartitionKeys">The Hive partition columns, outermost first; all are strings.</param>
/// <param name="UpdatedAt">When the definition was last written, UTC.</param>
public sealed record CatalogTable(
    string Database, string Name, string Location, string Format,
    IReadOnlyList<TableColumn> Columns, IReadOnlyList<TableColumn> PartitionKeys, DateTimeOffset UpdatedAt)
{
    /// <summary><c>database.table</c>.</summary>
    public string QualifiedName => $"{Database}.{Name}";
}

/// <summary>One partition of a table: a folder such as <c>year=2026/month=11/day=24/hour=13</c>.</summary>
/// <param name="Values">The partition values in the order of the table's partition keys, as written in the folder names.</param>
/// <param name="Location">The partition folder's key, relative to the data root.</param>
/// <param name="Rows">Rows in the partition; null when unknown (raw partitions are not counted).</param>
/// <param name="Bytes">Bytes of the partition's files as stored.</param>
/// <param name="RunId">The run that wrote it; null for discovered (raw) partitions.</param>
/// <param name="InputFingerprint">The fingerprint of the input the partition was computed from (or, for raw partitions, of its files).</param>
/// <param name="WrittenAt">When the partition was registered, UTC.</param>
public sealed record CatalogPartition(
    IReadOnlyList<string> Values, string Location, long? Rows, long Bytes, string? RunId, string? InputFingerprint, DateTimeOffset WrittenAt);

/// <summary>A table with its partition count and totals, as <c>tally catalog ls</c> lists it.</summary>
public sealed record CatalogTableSummary(CatalogTable Table, long Partitions, long? Rows, long Bytes);

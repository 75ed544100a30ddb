using System.Text.Json.Serialization;

namespace Tally.Engine;

/// <summary>The outcome of a run.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RunStatus>))]
public enum RunStatus
{
    [JsonStringEnumMemberName(WorkflowContract.Report.Succeeded)] Succeeded,
    [JsonStringEnumMemberName(WorkflowContract.Report.Failed)] Failed,
}

/// <summary>One table written by a run.</summary>
/// <param name="Table">Table name.</param>
/// <param name="Rows">Rows written for the hour.</param>
/// <param name="Location">Where the hour's file is (path or URI).</param>
/// <param name="Key">The file's key relative to the data root.</param>
/// <param name="Bytes">Size of the file in bytes.</param>
public sealed record TableOutput(
    [property: JsonPropertyName("table")] string Table,
    [property: JsonPropertyName("rows")] long Rows,
    [property: JsonPropertyName("location")] string Location,
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("bytes")] long Bytes);

/// <summary>The raw files a run read, by what their first bytes say they are (their names do not count).</summary>
/// <param name="Json">JSON text.</param>
/// <param name="Gzip">gzip-compressed, one member or several.</param>
/// <param name="Zstd">zstd-compressed, one frame or several.</param>
/// <param name="Unknown">Neither JSON text nor gzip or zstd: text that does not start like JSON (read all the same, each bad
/// line a rejected record), or binary data such as another compression (not read: one rejected record per file).</param>
public sealed record RawFileKinds(
    [property: JsonPropertyName("json")] int Json,
    [property: JsonPropertyName("gzip")] int Gzip,
    [property: JsonPropertyName("zstd")] int Zstd,
    [property: JsonPropertyName("unknown")] int Unknown);

/// <summary>What one run of one hour did. Serialized as the <c>tally run --format json</c> output.</summary>
public sealed record RunReport
{
    /// <summary>The hour processed, <c>2026-11-24T13</c> (UTC).</summary>
    [JsonPropertyName("target_hour")] public required string TargetHour { get; init; }
    [JsonPropertyName("status")] public required RunStatus Status { get; init; }
    /// <summary>Valid records counted.</summary>
    [JsonPropertyName("records")] public long Records { get; init; }
    /// <summary>Records rejected and quarantined.</summary>
    [JsonPropertyName("rejected")] public long Rejected { get; init; }
    /// <summary>Valid records whose Timestamp lies outside the hour of their folder (counted all the same).</summary>
    [JsonPropertyName("outside_window")] public long OutsideWindow { get; init; }
    /// <summary>Raw files read.</summary>
    [JsonPropertyName("files")] public int Files { get; init; }
    /// <summary>The raw files read, by kind; they add up to <see cref="Files"/>.</summary>
    [JsonPropertyName("file_kinds")] public RawFileKinds FileKinds { get; init; } = new(0, 0, 0, 0);
    /// <summary>Raw bytes read, as stored (the compressed size of compressed files).</summary>
    [JsonPropertyName("bytes")] public long Bytes { get; init; }
    [JsonPropertyName("duration_ms")] public long DurationMs { get; init; }
    /// <summary>A fingerprint of the hour's raw input (keys, sizes, change times); equal fingerprints mean unchanged input.</summary>
    [JsonPropertyName("input_fingerprint")] public string InputFingerprint { get; init; } = "";
    [JsonPropertyName("tables")] public IReadOnlyList<TableOutput> Tables { get; init; } = [];
    /// <summary>Where the rejected records are, when there are any.</summary>
    [JsonPropertyName("quarantine")] public string? Quarantine { get; init; }
    /// <summary>Why the run failed; null when it succeeded.</summary>
    [JsonPropertyName("error")] public string? Error { get; init; }
}

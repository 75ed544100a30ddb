namespace Tally;

/// <summary>
/// What kind of failure a <see cref="TallyException"/> or a failed run is; decides exit codes, HTTP statuses and whether a
/// retry can help. Its error name (<see cref="TallyException.ErrorName"/>) is what run records, events and the AWS state
/// machine carry.
/// </summary>
public enum TallyErrorKind
{
    /// <summary>A value given by the user (argument, option) is not valid.</summary>
    InvalidArgument,
    /// <summary>The configuration (settings, aggregation specs) is not valid.</summary>
    InvalidConfiguration,
    /// <summary>Something the user named does not exist (a data folder, a table, a run).</summary>
    NotFound,
    /// <summary>The input data breaks the contract beyond what a run tolerates (rejected share over the threshold).</summary>
    DataError,
    /// <summary>Storage failed in a way that may pass (I/O error, throttling, 5xx); retrying can succeed.</summary>
    Transient,
    /// <summary>Work went on longer than its configured time limit and was stopped (a query over <c>Query:Timeout</c>).</summary>
    Timeout,
    /// <summary>A run lost its hour's lease (its heartbeat could not renew it in time) and stopped. Only a run's error, never thrown.</summary>
    LeaseLost,
    /// <summary>A run was stopped (Ctrl+C, SIGTERM, the service stopping). Only a run's error, never thrown.</summary>
    Cancelled,
    /// <summary>A run's process died while it ran; the next process to notice recorded it. Only a run's error, never thrown.</summary>
    Abandoned,
}

/// <summary>An expected failure with a message meant for the person running Tally (one sentence, no stack trace).</summary>
public sealed class TallyException : Exception
{
    private TallyException(TallyErrorKind kind, string message, Exception? inner = null) : base(message, inner) => Kind = kind;

    public TallyErrorKind Kind { get; }

    /// <summary>Whether retrying the same operation may succeed.</summary>
    public bool IsTransient => Kind == TallyErrorKind.Transient;

    /// <summary>
    /// The error name a failed run carries, in its record, its failure event and the AWS state machine's error:
    /// <c>Tally.DataError</c>, <c>Tally.Transient</c>, ….
    /// </summary>
    public static string ErrorName(TallyErrorKind kind) => ErrorPrefix + kind;

    /// <summary>The kind named by <paramref name="name"/> (as <see cref="ErrorName"/> writes it); false for any other text,
    /// such as the type name of an unexpected exception that failed a run.</summary>
    public static bool TryParseErrorName(string? name, out TallyErrorKind kind)
    {
        kind = default;
        return name is not null && name.StartsWith(ErrorPrefix, StringComparison.Ordinal)
            && Enum.TryParse(name.AsSpan(ErrorPrefix.Length), ignoreCase: false, out kind) && Enum.IsDefined(kind) && ErrorName(kind) == name;
    }

    private const string ErrorPrefix = "Tally.";

    public static TallyException InvalidArgument(string message) => new(TallyErrorKind.InvalidArgument, message);
    public static TallyException InvalidConfiguration(string message) => new(TallyErrorKind.InvalidConfiguration, message);
    public static TallyException NotFound(string message) => new(TallyErrorKind.NotFound, message);
    public static TallyException DataError(string message) => new(TallyErrorKind.DataError, message);
    public static TallyException Transient(string message, Exception? inner = null) => new(TallyErrorKind.Transient, message, inner);
    public static TallyException Timeout(string message, Exception? inner = null) => new(TallyErrorKind.Timeout, message, inner);
}

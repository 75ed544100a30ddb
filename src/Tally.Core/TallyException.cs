namespace Tally;

/// <summary>What kind of failure a <see cref="TallyException"/> is; decides exit codes and whether a retry can help.</summary>
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
    public static string ErrorName(TallyErrorKind kind) => "Tally." + kind;

    public static TallyException InvalidArgument(string message) => new(TallyErrorKind.InvalidArgument, message);
    public static TallyException InvalidConfiguration(string message) => new(TallyErrorKind.InvalidConfiguration, message);
    public static TallyException NotFound(string message) => new(TallyErrorKind.NotFound, message);
    public static TallyException DataError(string message) => new(TallyErrorKind.DataError, message);
    public static TallyException Transient(string message, Exception? inner = null) => new(TallyErrorKind.Transient, message, inner);
    public static TallyException Timeout(string message, Exception? inner = null) => new(TallyErrorKind.Timeout, message, inner);
}

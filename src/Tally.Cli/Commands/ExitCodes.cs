using Spectre.Console.Cli;

namespace Tally.Cli.Commands;

/// <summary>The exit codes of <c>tally</c>, and how an exception becomes one clear line on stderr.</summary>
internal static class ExitCodes
{
    public const int Succeeded = 0;
    /// <summary>The command ran and its work failed (a run with too many rejected records).</summary>
    public const int Failed = 1;
    /// <summary>A mistake in the command line, an argument or the configuration; also a query over its time or memory limit.</summary>
    public const int Usage = 2;
    /// <summary>Something named does not exist (data folder, table, run).</summary>
    public const int NotFound = 3;
    /// <summary>Storage or I/O failed; trying again may work.</summary>
    public const int Transient = 4;
    /// <summary>Another live run holds the hour (after waiting <c>--wait</c> seconds for it).</summary>
    public const int Busy = 5;
    public const int Cancelled = 130;

    /// <summary>The exit code of a failure of <paramref name="kind"/>, thrown or recorded as a run's error: the one mapping.</summary>
    public static int For(TallyErrorKind kind) => kind switch
    {
        TallyErrorKind.InvalidArgument or TallyErrorKind.InvalidConfiguration => Usage,
        TallyErrorKind.NotFound => NotFound,
        TallyErrorKind.DataError or TallyErrorKind.LeaseLost or TallyErrorKind.Abandoned => Failed,
        TallyErrorKind.Transient => Transient,
        TallyErrorKind.Timeout => Usage,
        TallyErrorKind.Cancelled => Cancelled,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>Prints <paramref name="exception"/> as one sentence on stderr and returns its exit code. Unexpected exceptions keep their stack trace.</summary>
    public static int Report(Exception exception)
    {
        switch (exception)
        {
            case TallyException e:
                Error(e.Message);
                return For(e.Kind);
            case CommandParseException or CommandRuntimeException:
                Error(exception.Message);
                return Usage;
            case OperationCanceledException:
                Error("Cancelled.");
                return Cancelled;
            default:
                Error($"Unexpected error: {exception}");
                return 70; // EX_SOFTWARE
        }
    }

    /// <summary>Writes "error: message" on stderr as one line (coloured on a terminal, never wrapped).</summary>
    public static void Error(string message)
    {
        var text = message.ReplaceLineEndings(" ");
        if (Console.IsErrorRedirected) Console.Error.WriteLine($"error: {text}");
        else Console.Error.WriteLine($"\u001b[31merror:\u001b[0m {text}");
    }
}

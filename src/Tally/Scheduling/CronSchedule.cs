using Cronos;

namespace Tally.Scheduling;

/// <summary>Cron expressions as the settings and <c>--cron</c> write them.</summary>
internal static class CronSchedule
{
    /// <summary>
    /// Parses <paramref name="text"/>: five fields (minute hour day-of-month month day-of-week), or six with seconds first.
    /// Occurrences are computed in UTC.
    /// </summary>
    /// <exception cref="TallyException">InvalidConfiguration naming <paramref name="name"/> when the expression is not valid.</exception>
    public static CronExpression Parse(string? text, string name)
    {
        var fields = text?.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length ?? 0;
        try
        {
            return CronExpression.Parse(text ?? "", fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
        }
        catch (CronFormatException e)
        {
            throw TallyException.InvalidConfiguration($"{name} '{text}' is not a cron expression (five fields, \"0 * * * *\" = every hour, or six with seconds first): {e.Message}");
        }
    }
}

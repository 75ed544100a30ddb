using System.Globalization;
using Tally.State;
using static Tally.State.StateDatabase;

namespace Tally.Workflow;

/// <summary>The latest run of one hour, and how many runs the hour had.</summary>
public sealed record HourSummary(HourWindow Hour, string RunId, RunStatus Status, RunTrigger Trigger, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, int Runs);

/// <summary>Totals over the whole run history, for <c>/metrics</c>.</summary>
/// <param name="Durations">Seconds from start to end of every ended run.</param>
public sealed record RunTotals(
    IReadOnlyDictionary<string, long> RunsByStatus, long Records, long Rejected, IReadOnlyList<double> Durations,
    IReadOnlyDictionary<string, long> DeliveriesByStatus, IReadOnlyDictionary<string, long> AttemptsByOutcome);

/// <summary>Read-only summaries of the run history and the outbox (the dashboard's hour grid and metrics). Safe from several threads.</summary>
public sealed class RunStatistics(StateDatabase db)
{
    /// <summary>For each hour from <paramref name="from"/> (inclusive) that has runs: its latest run (by start time) and its run count.</summary>
    public Task<IReadOnlyList<HourSummary>> HoursAsync(HourWindow from, CancellationToken cancellationToken) => db.ReadAsync(async c =>
    {
        await using var reader = await Command(c, null, """
            SELECT r.target_hour, r.run_id, r.status, r.trigger, r.started_at, r.ended_at, n.runs
            FROM (SELECT target_hour, count(*) AS runs, max(started_at || ' ' || run_id) AS latest FROM runs WHERE target_hour >= $from GROUP BY target_hour) n
            JOIN runs r ON r.target_hour = n.target_hour AND r.started_at || ' ' || r.run_id = n.latest
            ORDER BY r.target_hour
            """, ("$from", from.ToString())).ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var hours = new List<HourSummary>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            hours.Add(new HourSummary(HourWindow.Parse(reader.GetString(0)), reader.GetString(1), RunText.Statuses.Parse(reader.GetString(2)), RunText.Triggers.Parse(reader.GetString(3)),
                ParseTime(reader.GetString(4)), ParseTimeOrNull(reader, 5), reader.GetInt32(6)));
        }
        return (IReadOnlyList<HourSummary>)hours;
    }, cancellationToken);

    /// <summary>Runs by status, records and rejected records of ended runs, run durations, event deliveries by status and attempts by outcome.</summary>
    public Task<RunTotals> TotalsAsync(CancellationToken cancellationToken) => db.ReadAsync(async c =>
    {
        var byStatus = await CountsAsync(c, "SELECT status, count(*) FROM runs GROUP BY status", cancellationToken).ConfigureAwait(false);
        long records = 0, rejected = 0;
        var durations = new List<double>();
        await using (var reader = await Command(c, null, """
            SELECT coalesce(json_extract(counters, '$.records'), 0), coalesce(json_extract(counters, '$.rejected'), 0), started_at, ended_at
            FROM runs WHERE ended_at IS NOT NULL
            """).ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                records += reader.GetInt64(0);
                rejected += reader.GetInt64(1);
                durations.Add(Math.Max(0, (ParseTime(reader.GetString(3)) - ParseTime(reader.GetString(2))).TotalSeconds));
            }
        }
        var deliveries = await CountsAsync(c, "SELECT status, count(*) FROM deliveries GROUP BY status", cancellationToken).ConfigureAwait(false);
        var attempts = await CountsAsync(c, "SELECT outcome, count(*) FROM delivery_attempts GROUP BY outcome", cancellationToken).ConfigureAwait(false);
        return new RunTotals(byStatus, records, rejected, durations, deliveries, attempts);
    }, cancellationToken);

    private static async Task<IReadOnlyDictionary<string, long>> CountsAsync(Microsoft.Data.Sqlite.SqliteConnection c, string sql, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await Command(c, null, sql).ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            counts[reader.GetString(0)] = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
        }
        return counts;
    }
}

using Prometheus;
using Tally.Events;
using Tally.Workflow;

namespace Tally.Cli.Dashboard;

/// <summary>
/// <c>/metrics</c>: the run history and the outbox in the Prometheus text exposition format, through prometheus-net (its
/// format, escaping and histogram rules, not ours).
/// </summary>
/// <remarks>
/// Every number is read from the metastore at the scrape (<see cref="RunTotals"/>), so several <c>tally serve</c> processes
/// over one data folder, or a restarted one, report the same history. A registry is therefore built per scrape: prometheus-net's
/// collectors accumulate observations in the process, and a histogram of the history cannot be set, only observed.
/// </remarks>
internal static class PrometheusMetrics
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Upper bounds of the run duration histogram, in seconds.</summary>
    internal static readonly double[] DurationBuckets = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600];

    public static async Task WriteAsync(RunTotals totals, Stream destination, CancellationToken cancellationToken)
    {
        var registry = Metrics.NewCustomRegistry();
        var metrics = Metrics.WithCustomRegistry(registry);

        var runs = metrics.CreateGauge("tally_runs", "Runs in the run history, by status.", "status");
        // Every status is shown, 0 when no run has it: a series that appears only once it is non-zero breaks alert rules.
        foreach (var status in RunText.Statuses.Texts.Concat(totals.RunsByStatus.Keys).Distinct(StringComparer.Ordinal))
        {
            runs.WithLabels(status).Set(totals.RunsByStatus.GetValueOrDefault(status));
        }
        metrics.CreateCounter("tally_records_total", "Valid records counted by the runs that ended (reruns count an hour again).").IncTo(totals.Records);
        metrics.CreateCounter("tally_records_rejected_total", "Records rejected (quarantined) by the runs that ended.").IncTo(totals.Rejected);

        var durations = metrics.CreateHistogram("tally_run_duration_seconds", "Wall-clock time of the runs that ended, from start to end.",
            new HistogramConfiguration { Buckets = DurationBuckets });
        durations.Publish();
        foreach (var seconds in totals.Durations) durations.Observe(seconds);

        var deliveries = metrics.CreateGauge("tally_event_deliveries", "Event deliveries (one per event and sink) in the outbox, by outcome so far.", "outcome");
        foreach (var status in DeliveryText.Statuses.Texts.Concat(totals.DeliveriesByStatus.Keys).Distinct(StringComparer.Ordinal))
        {
            deliveries.WithLabels(status).Set(totals.DeliveriesByStatus.GetValueOrDefault(status));
        }
        var attempts = metrics.CreateCounter("tally_event_delivery_attempts_total", "Attempts to deliver an event to a sink, by outcome.", "outcome");
        foreach (var outcome in DeliveryText.Outcomes.Texts.Concat(totals.AttemptsByOutcome.Keys).Distinct(StringComparer.Ordinal))
        {
            var child = attempts.WithLabels(outcome);
            child.IncTo(totals.AttemptsByOutcome.GetValueOrDefault(outcome));
            child.Publish();
        }

        await registry.CollectAndExportAsTextAsync(destination, ExpositionFormat.PrometheusText, cancellationToken).ConfigureAwait(false);
    }
}

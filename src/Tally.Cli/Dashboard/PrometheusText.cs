using System.Globalization;
using System.Text;
using Tally.Events;
using Tally.Workflow;

namespace Tally.Cli.Dashboard;

/// <summary>
/// <c>/metrics</c>: the run history and the outbox in the Prometheus text exposition format, version 0.0.4 (one HELP and TYPE
/// line per family, then its samples; label values escaped; a histogram's buckets cumulative and ending at <c>+Inf</c>).
/// </summary>
internal static class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Upper bounds of the run duration histogram, in seconds.</summary>
    internal static readonly double[] DurationBuckets = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600];

    public static string Write(RunTotals totals)
    {
        var text = new StringBuilder();
        Family(text, "tally_runs", "gauge", "Runs in the run history, by status.");
        foreach (var status in RunText.Statuses.Texts.Concat(totals.RunsByStatus.Keys).Distinct(StringComparer.Ordinal))
        {
            Sample(text, "tally_runs", [("status", status)], totals.RunsByStatus.GetValueOrDefault(status));
        }
        Family(text, "tally_records_total", "counter", "Valid records counted by the runs that ended (reruns count an hour again).");
        Sample(text, "tally_records_total", [], totals.Records);
        Family(text, "tally_records_rejected_total", "counter", "Records rejected (quarantined) by the runs that ended.");
        Sample(text, "tally_records_rejected_total", [], totals.Rejected);

        Family(text, "tally_run_duration_seconds", "histogram", "Wall-clock time of the runs that ended, from start to end.");
        foreach (var bound in DurationBuckets)
        {
            Sample(text, "tally_run_duration_seconds_bucket", [("le", Number(bound))], totals.Durations.Count(d => d <= bound));
        }
        Sample(text, "tally_run_duration_seconds_bucket", [("le", "+Inf")], totals.Durations.Count);
        text.Append("tally_run_duration_seconds_sum ").Append(Number(totals.Durations.Sum())).Append('\n');
        Sample(text, "tally_run_duration_seconds_count", [], totals.Durations.Count);

        Family(text, "tally_event_deliveries", "gauge", "Event deliveries (one per event and sink) in the outbox, by outcome so far.");
        foreach (var status in DeliveryText.Statuses.Texts.Concat(totals.DeliveriesByStatus.Keys).Distinct(StringComparer.Ordinal))
        {
            Sample(text, "tally_event_deliveries", [("outcome", status)], totals.DeliveriesByStatus.GetValueOrDefault(status));
        }
        Family(text, "tally_event_delivery_attempts_total", "counter", "Attempts to deliver an event to a sink, by outcome.");
        foreach (var outcome in DeliveryText.Outcomes.Texts.Concat(totals.AttemptsByOutcome.Keys).Distinct(StringComparer.Ordinal))
        {
            Sample(text, "tally_event_delivery_attempts_total", [("outcome", outcome)], totals.AttemptsByOutcome.GetValueOrDefault(outcome));
        }
        return text.ToString();
    }

    private static void Family(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal))
            .Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Sample(StringBuilder text, string name, (string Name, string Value)[] labels, long value)
    {
        text.Append(name);
        if (labels.Length > 0)
        {
            text.Append('{').AppendJoin(',', labels.Select(l => $"{l.Name}=\"{Escape(l.Value)}\"")).Append('}');
        }
        text.Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    private static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}

namespace Tally.Aws.Cdk;

/// <summary>The demo raw data deployed to <c>raw_data/</c>, and the one hour it holds.</summary>
internal static class DemoData
{
    /// <summary>The folder of the demo raw data, relative to the repository root; it mirrors the bucket's <c>raw_data/</c>.</summary>
    public static readonly string RawFolder = Path.Combine("demo", DataLayout.RawPrefix);

    /// <summary>The UTC hour of the demo records; deployment runs the pipeline once for it.</summary>
    public static HourWindow Hour { get; } = HourWindow.FromParts(2026, 11, 24, 13);

    /// <summary>The input whose run processes <see cref="Hour"/>, as the schedule would send it at the end of the hour.</summary>
    public static string WorkflowInput => WorkflowContract.SchedulerInputAt(Hour.End);

    /// <summary>The execution name of the demo run (unique per state machine; letters, digits, '-' and '_' only).</summary>
    public static string ExecutionName => $"demo-hour-{Hour.Start:yyyy-MM-dd'T'HH}";
}

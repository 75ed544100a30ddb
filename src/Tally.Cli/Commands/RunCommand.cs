using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Cli;
using Tally.Engine;
using Tally.Metastore;
using Tally.Storage;

namespace Tally.Cli.Commands;

internal sealed class RunCommand : AsyncCommand<RunCommand.Settings>
{
    internal sealed class Settings : DataSettings
    {
        [CommandOption("--hour <HOUR>")]
        [Description("The hour to aggregate, yyyy-MM-ddTHH in UTC, for example 2026-11-24T13.")]
        public string? Hour { get; init; }

        [CommandOption("--input <JSON>")]
        [Description("The state machine's input, {\"target_datetime\": \"<scheduled time>\"}: aggregates the whole hour before that time.")]
        public string? Input { get; init; }

        [CommandOption("--format <FORMAT>")]
        [Description("table (default) or json: one JSON object with target_hour, status, records, rejected, outside_window, files, bytes, duration_ms, tables.")]
        public string? Format { get; init; }

        [CommandOption("--threshold <SHARE>")]
        [Description("The largest share of rejected records a run accepts, 0 to 1. Default 0.01 (1 %).")]
        public double Threshold { get; init; } = 0.01;

        [CommandOption("--parallel <N>")]
        [Description("Raw files read at once. Default: one per core.")]
        public int Parallel { get; init; }

        public override ValidationResult Validate() => (Hour, Input) switch
        {
            (null, null) => ValidationResult.Error("Give the hour to aggregate: --hour 2026-11-24T13, or --input '{\"target_datetime\": \"2026-11-24T14:00:00Z\"}'."),
            (not null, not null) => ValidationResult.Error("Give either --hour or --input, not both."),
            _ => ValidationResult.Success(),
        };

        public HourWindow TargetHour() => Hour is not null ? HourWindow.Parse(Hour) : HourWindow.FromWorkflowInput(Input!);

        public TallyOptions Options() => new() { RejectedThreshold = Threshold, MaxParallelism = Parallel };
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var format = OutputFormats.Parse(settings.Format);
        var hour = settings.TargetHour();
        var options = settings.Options();
        options.Validate();
        var store = settings.OpenStore();
        var report = await RunWithProgressAsync(store, options, hour, format, cancellationToken);
        var catalog = await settings.OpenCatalogAsync(store, options, cancellationToken);
        await catalog.RecordRunAsync(report, Catalog.NewRunId(TimeProvider.System), cancellationToken);
        Print(report, format);
        return report.Status == RunStatus.Succeeded ? ExitCodes.Succeeded : ExitCodes.Failed;
    }

    internal static async Task<RunReport> RunWithProgressAsync(IObjectStore store, TallyOptions options, HourWindow hour, OutputFormat format, CancellationToken cancellationToken)
    {
        var job = new HourAggregationJob(store, options);
        if (!OutputFormats.CanShowProgress(format)) return await job.RunAsync(hour, null, cancellationToken);
        RunReport? report = null;
        await AnsiConsole.Progress().AutoClear(true).StartAsync(async ctx =>
        {
            var task = ctx.AddTask($"Aggregating {hour}", maxValue: 1);
            report = await job.RunAsync(hour, new Progress<RunProgress>(p =>
            {
                task.MaxValue = Math.Max(p.BytesTotal, 1);
                task.Value = p.BytesDone;
            }), cancellationToken);
            task.Value = task.MaxValue;
        });
        return report!;
    }

    internal static readonly JsonSerializerOptions JsonOutput = new() { WriteIndented = true };

    internal static void Print(RunReport report, OutputFormat format)
    {
        if (format == OutputFormat.Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(report, JsonOutput));
            return;
        }
        var ok = report.Status == RunStatus.Succeeded;
        var status = ok ? "[green]succeeded[/]" : "[red]failed[/]";
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"{report.TargetHour}: {status} in {report.DurationMs:N0} ms — {report.Records:N0} records counted, {report.Rejected:N0} rejected, "
            + $"{report.OutsideWindow:N0} outside the hour, {report.Files:N0} files, {report.Bytes / 1048576.0:N1} MiB"));
        if (report.Tables.Count > 0)
        {
            var table = new Table().AddColumns("table", "rows", "file");
            table.Columns[1].RightAligned();
            foreach (var t in report.Tables) table.AddRow(Markup.Escape(t.Table), t.Rows.ToString("N0", CultureInfo.InvariantCulture), Markup.Escape(t.Location));
            AnsiConsole.Write(table);
        }
        if (report.Quarantine is not null) Console.Out.WriteLine($"Rejected records: {report.Quarantine}");
        if (report.Error is not null) ExitCodes.Error(report.Error);
    }
}

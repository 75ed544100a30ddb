using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Spectre.Console;
using Spectre.Console.Cli;
using Tally.Engine;
using Tally.Configuration;
using Tally.Workflow;
using RunStatus = Tally.Workflow.RunStatus;

using Tally.Cli.DataFolder;

namespace Tally.Cli.Commands;

internal sealed class RunCommand : AsyncCommand<RunCommand.Settings>
{
    internal sealed class Settings : WorkflowRunSettings
    {
        [CommandOption("--hour <HOUR>")]
        [Description("The hour to aggregate, yyyy-MM-ddTHH in UTC, for example 2026-11-24T13.")]
        public string? Hour { get; init; }

        [CommandOption("--input <JSON>")]
        [Description("The state machine's input, {\"target_datetime\": \"<scheduled time>\"}: aggregates the whole hour before that time.")]
        public string? Input { get; init; }

        [CommandOption("--format <FORMAT>")]
        [Description("table (default) or json: one JSON object with target_hour, status, records, rejected, outside_window, files, file_kinds, bytes, duration_ms, tables.")]
        public string? Format { get; init; }

        [CommandOption("--parallel <N>")]
        [Description("Raw files read at once. Default: the Parallelism setting, 0 = one per core.")]
        public int? Parallel { get; init; }

        [CommandOption("--wait <SECONDS>")]
        [Description("When another run of the hour is going on, wait up to this long for it to end. Default 0: exit at once with code 5.")]
        public double Wait { get; init; }

        public override ValidationResult Validate() => (Hour, Input) switch
        {
            (null, null) => ValidationResult.Error("Give the hour to aggregate: --hour 2026-11-24T13, or --input '{\"target_datetime\": \"2026-11-24T14:00:00Z\"}'."),
            (not null, not null) => ValidationResult.Error("Give either --hour or --input, not both."),
            _ when Wait < 0 || double.IsNaN(Wait) => ValidationResult.Error("--wait must be 0 or more seconds."),
            _ => ValidationResult.Success(),
        };

        /// <summary>The workflow input: --input as given, or the input that processes --hour.</summary>
        public string WorkflowInput() => Hour is not null ? WorkflowContract.InputFor(HourWindow.Parse(Hour)) : Input!;

        protected override IEnumerable<KeyValuePair<string, string?>> Overrides()
        {
            foreach (var item in base.Overrides()) yield return item;
            if (Parallel is { } parallel) yield return new(nameof(EngineSettings.Parallelism), parallel.ToString(CultureInfo.InvariantCulture));
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var format = OutputFormats.Parse(settings.Format);
        var input = settings.WorkflowInput();
        var hour = WorkflowContract.TargetHour(input);
        var tally = settings.Tally;
        var store = settings.OpenStore();
        using var state = await WorkflowState.OpenAsync(settings.StateDirectory, tally, cancellationToken);
        var workflow = await state.WorkflowAsync(store, cancellationToken);
        var result = await RunWithProgressAsync(hour, format, progress =>
            workflow.RunAsync(input, RunTrigger.Manual, TimeSpan.FromSeconds(settings.Wait), progress, cancellationToken));
        if (result is not WorkflowResult.Started ran)
        {
            var lease = ((WorkflowResult.Held)result).HeldBy;
            ExitCodes.Error($"{hour} is already being aggregated by {lease.Holder}; try again later, or pass --wait SECONDS to wait for it.");
            return ExitCodes.Busy;
        }
        Print(ran, format);
        await state.DispatchAsync(tally.Events.Delivery.WaitAfterRun, cancellationToken);
        return ExitCode(ran.Run);
    }

    /// <summary>The exit code of a finished run: 0, or what its error kind means (1 for an error that is no kind of Tally's).</summary>
    internal static int ExitCode(RunRecord run) => run.Status == RunStatus.Succeeded ? ExitCodes.Succeeded
        : run.ErrorKind is { } kind ? ExitCodes.For(kind)
        : ExitCodes.Failed;

    internal static async Task<T> RunWithProgressAsync<T>(HourWindow hour, OutputFormat format, Func<IProgress<RunProgress>?, Task<T>> run)
    {
        if (!OutputFormats.CanShowProgress(format)) return await run(null);
        T result = default!;
        await AnsiConsole.Progress().AutoClear(true).StartAsync(async ctx =>
        {
            var task = ctx.AddTask($"Aggregating {hour}", maxValue: 1);
            result = await run(new Progress<RunProgress>(p =>
            {
                task.MaxValue = Math.Max(p.BytesTotal, 1);
                task.Value = p.BytesDone;
            }));
            task.Value = task.MaxValue;
        });
        return result;
    }

    internal static readonly JsonSerializerOptions JsonOutput = new() { WriteIndented = true };

    internal static void Print(WorkflowResult.Started result, OutputFormat format)
    {
        var run = result.Run;
        if (format == OutputFormat.Json)
        {
            var json = result.Report is { } r ? JsonSerializer.SerializeToNode(r, ReportJson.Default.RunReport)!.AsObject() : new JsonObject
            {
                ["target_hour"] = run.TargetHour.ToString(),
                ["status"] = run.Status.Text(),
            };
            json.Insert(0, "run_id", run.RunId);
            json["error"] = run.Cause;
            json["error_name"] = run.Error;
            json["event_id"] = result.Event?.EventId;
            Console.Out.WriteLine(json.ToJsonString(JsonOutput));
            return;
        }
        AnsiConsole.MarkupLineInterpolated($"Run {run.RunId}");
        if (result.Report is { } report) PrintReport(report);
        if (run.Status != RunStatus.Succeeded && result.Report?.Error is null) ExitCodes.Error($"{run.TargetHour} failed in {run.FailedState}: {run.Cause}");
    }

    private static void PrintReport(RunReport report)
    {
        var ok = report.Status == Engine.RunStatus.Succeeded;
        var status = HistorySettings.StatusMarkup(ok ? RunStatus.Succeeded : RunStatus.Failed);
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"{report.TargetHour}: {status} in {report.DurationMs:N0} ms — {report.Records:N0} records counted, {report.Rejected:N0} rejected, "
            + $"{report.OutsideWindow:N0} outside the hour, {report.Files:N0} files{FileKinds(report.FileKinds)}, {report.Bytes / 1048576.0:N1} MiB"));
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

    /// <summary>" (58 json, 2 gzip)": the kinds of raw files read, those with none left out; empty when no file was read.</summary>
    private static string FileKinds(RawFileKinds kinds)
    {
        var parts = new (int Count, string Kind)[] { (kinds.Json, "json"), (kinds.Gzip, "gzip"), (kinds.Zstd, "zstd"), (kinds.Unknown, "unknown") }
            .Where(k => k.Count > 0).Select(k => string.Create(CultureInfo.InvariantCulture, $"{k.Count:N0} {k.Kind}")).ToList();
        return parts.Count == 0 ? "" : $" ({string.Join(", ", parts)})";
    }
}

/// <summary>The engine's report as <c>tally run --format json</c> prints it, written by code generated at build time.</summary>
[JsonSerializable(typeof(RunReport))]
internal sealed partial class ReportJson : JsonSerializerContext;

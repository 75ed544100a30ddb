using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;
using Spectre.Console.Rendering;
using Tally.Scheduling;

using Tally.Cli.DataFolder;

namespace Tally.Cli.Commands;

/// <summary><c>tally backfill</c>: the workflow for every hour of a range, with a progress bar and a summary.</summary>
internal sealed class BackfillCommand : AsyncCommand<BackfillCommand.Settings>
{
    internal sealed class Settings : WorkflowRunSettings
    {
        [CommandOption("--from <HOUR>")]
        [Description("The first hour to run, yyyy-MM-ddTHH in UTC, for example 2026-11-01T00.")]
        public string? From { get; init; }

        [CommandOption("--to <HOUR>")]
        [Description("The hour to stop before (not run), yyyy-MM-ddTHH in UTC: --from 2026-11-01T00 --to 2026-11-02T00 runs the 24 hours of November 1.")]
        public string? To { get; init; }

        [CommandOption("--parallel <N>")]
        [Description("Hours run at once. Default 1.")]
        public int Parallel { get; init; } = 1;

        [CommandOption("--force")]
        [Description("Run every hour, also those whose latest succeeded run read the same raw input as there is now.")]
        public bool Force { get; init; }

        [CommandOption("--format <FORMAT>")]
        [Description("table (default): a progress bar, then a summary; json: one JSON object with the counts and every hour's outcome.")]
        public string? Format { get; init; }

        public override ValidationResult Validate()
        {
            if (From is null || To is null) return ValidationResult.Error("Give the range of hours: --from 2026-11-01T00 --to 2026-11-02T00 (the --to hour is not run).");
            if (!HourWindow.TryParse(From, out var from)) return ValidationResult.Error($"--from '{From}' is not an hour; write it as yyyy-MM-ddTHH, for example 2026-11-01T00.");
            if (!HourWindow.TryParse(To, out var to)) return ValidationResult.Error($"--to '{To}' is not an hour; write it as yyyy-MM-ddTHH, for example 2026-11-02T00.");
            if (to <= from) return ValidationResult.Error($"--to {to} must come after --from {from}: the range runs from --from up to, not including, --to.");
            if (Parallel < 1) return ValidationResult.Error("--parallel must be 1 or more.");
            return ValidationResult.Success();
        }

        public HourWindow FromHour => HourWindow.Parse(From!);

        public HourWindow ToHour => HourWindow.Parse(To!);

    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var format = OutputFormats.Parse(settings.Format);
        var (from, to) = (settings.FromHour, settings.ToHour);
        // An hour that has not ended yet would be counted with part of its hits: refuse it rather than write a short count.
        var current = HourWindow.Containing(TimeProvider.System.GetUtcNow());
        if (to > current)
        {
            throw TallyException.InvalidArgument(
                $"--to {to} reaches into hours that have not ended yet; the latest complete hour is {current.AddHours(-1)}, so --to can be at most {current}.");
        }

        var tally = settings.Tally;
        var store = settings.OpenStore();
        using var state = await WorkflowState.OpenAsync(settings.StateDirectory, tally, cancellationToken);
        var workflow = await state.WorkflowAsync(store, cancellationToken);
        var backfill = new Backfill(workflow, new LateDataDetector(store, state.Runs));
        var total = HourWindow.Range(from, to).Count();

        BackfillSummary summary;
        if (OutputFormats.CanShowProgress(format))
        {
            summary = await WithProgressBarAsync(total, (started, finished) =>
                backfill.RunAsync(from, to, settings.Parallel, settings.Force, started, finished, cancellationToken));
        }
        else
        {
            // Not a terminal: one line per hour as it ends (for logs), written from the pool threads one at a time.
            var gate = new Lock();
            var done = 0;
            var finished = format == OutputFormat.Table ? new SynchronousProgress<BackfillHour>(hour =>
            {
                lock (gate)
                {
                    done++;
                    // Hours left as they are only add up in the summary; the ones that ran get a line each.
                    if (hour.Outcome != BackfillOutcome.UpToDate) Console.Out.WriteLine($"[{done}/{total}] {Describe(hour)}");
                }
            }) : null;
            summary = await backfill.RunAsync(from, to, settings.Parallel, settings.Force, null, finished, cancellationToken);
        }

        // Failure events of the failed hours go out now, as after `tally run`.
        await state.DispatchAsync(tally.Events.Delivery.WaitAfterRun, CancellationToken.None);

        if (format == OutputFormat.Json) Console.Out.WriteLine(ToJson(summary).ToJsonString(RunCommand.JsonOutput));
        else PrintSummary(summary);
        return ExitCode(summary);
    }

    internal static int ExitCode(BackfillSummary summary) =>
        summary.Count(BackfillOutcome.Failed) > 0 ? ExitCodes.Failed
        : summary.Count(BackfillOutcome.Cancelled) > 0 ? ExitCodes.Cancelled
        : summary.Count(BackfillOutcome.Held) > 0 ? ExitCodes.Busy
        : ExitCodes.Succeeded;

    private static async Task<BackfillSummary> WithProgressBarAsync(int total,
        Func<IProgress<HourWindow>, IProgress<BackfillHour>, Task<BackfillSummary>> run)
    {
        BackfillSummary summary = null!;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new DoneColumn(), new RateColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask("Backfill", maxValue: total);
                var gate = new Lock();
                int succeeded = 0, failed = 0, skipped = 0;
                var running = new SortedSet<HourWindow>();
                void Describe()
                {
                    var now = running.Count > 0 ? $" · running {string.Join(", ", running.Take(2))}{(running.Count > 2 ? " …" : "")}" : "";
                    task.Description = $"{succeeded} succeeded · [red]{failed} failed[/] · {skipped} skipped{Markup.Escape(now)}";
                }
                summary = await run(
                    new SynchronousProgress<HourWindow>(hour =>
                    {
                        lock (gate)
                        {
                            running.Add(hour);
                            Describe();
                        }
                    }),
                    new SynchronousProgress<BackfillHour>(hour =>
                    {
                        lock (gate)
                        {
                            running.Remove(hour.Hour);
                            switch (hour.Outcome)
                            {
                                case BackfillOutcome.Succeeded: succeeded++; break;
                                case BackfillOutcome.Failed: failed++; break;
                                default: skipped++; break;
                            }
                            Describe();
                            task.Increment(1);
                        }
                    }));
            });
        return summary;
    }

    private static string Describe(BackfillHour hour) => hour.Outcome switch
    {
        BackfillOutcome.Succeeded => string.Create(CultureInfo.InvariantCulture,
            $"{hour.Hour} succeeded in {hour.Elapsed.TotalMilliseconds:N0} ms ({hour.Run!.RunId})"),
        BackfillOutcome.Failed => $"{hour.Hour} FAILED{(hour.Run is { } run ? $" ({run.RunId})" : "")}: {hour.Reason}",
        BackfillOutcome.UpToDate => $"{hour.Hour} skipped: {hour.Reason}",
        BackfillOutcome.Held => $"{hour.Hour} not run: {hour.Reason}",
        _ => $"{hour.Hour} {hour.Reason}",
    };

    private static void PrintSummary(BackfillSummary summary)
    {
        var hours = summary.Hours.Count;
        var upToDate = summary.Count(BackfillOutcome.UpToDate);
        if (summary.Ran == 0 && upToDate == hours)
        {
            Console.Out.WriteLine($"Nothing to run: all {hours} hours from {summary.From} to {summary.To} already succeeded with the raw input they have now. "
                + "Pass --force to run them again.");
            return;
        }
        var parts = new (BackfillOutcome Outcome, string Text)[]
        {
            (BackfillOutcome.Failed, "failed"),
            (BackfillOutcome.UpToDate, "skipped (already succeeded with the same raw input)"),
            (BackfillOutcome.Held, "not run (another run holds the hour)"),
            (BackfillOutcome.Cancelled, "cancelled"),
        }.Where(p => summary.Count(p.Outcome) > 0).Select(p => $", {summary.Count(p.Outcome)} {p.Text}");
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Backfill {summary.From} to {summary.To} ({hours} hours) in {summary.Elapsed.TotalSeconds:0.0} s: "
            + $"{summary.Count(BackfillOutcome.Succeeded)} succeeded{string.Concat(parts)}."));
        var notDone = summary.Hours.Where(h => h.Outcome is BackfillOutcome.Failed or BackfillOutcome.Held or BackfillOutcome.Cancelled).ToList();
        foreach (var hour in notDone.Take(50)) Console.Out.WriteLine("  " + Describe(hour));
        if (notDone.Count > 50) Console.Out.WriteLine($"  … and {notDone.Count - 50} more (see tally runs ls).");
        if (summary.Count(BackfillOutcome.Failed) > 0) ExitCodes.Error($"{summary.Count(BackfillOutcome.Failed)} of {hours} hours failed; `tally runs show RUN_ID` shows why.");
    }

    private static JsonObject ToJson(BackfillSummary summary) => new()
    {
        ["from"] = summary.From.ToString(),
        ["to"] = summary.To.ToString(),
        ["hours"] = summary.Hours.Count,
        ["succeeded"] = summary.Count(BackfillOutcome.Succeeded),
        ["failed"] = summary.Count(BackfillOutcome.Failed),
        ["skipped"] = summary.Count(BackfillOutcome.UpToDate),
        ["held"] = summary.Count(BackfillOutcome.Held),
        ["cancelled"] = summary.Count(BackfillOutcome.Cancelled),
        ["duration_ms"] = (long)summary.Elapsed.TotalMilliseconds,
        ["runs"] = new JsonArray(summary.Hours.Select(h => (JsonNode)new JsonObject
        {
            ["hour"] = h.Hour.ToString(),
            ["outcome"] = JsonNamingPolicy.SnakeCaseLower.ConvertName(h.Outcome.ToString()),
            ["run_id"] = h.Run?.RunId,
            ["reason"] = h.Reason,
            ["duration_ms"] = (long)h.Elapsed.TotalMilliseconds,
        }).ToArray()),
    };

    /// <summary>Hours finished out of the range, "12/48".</summary>
    private sealed class DoneColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(string.Create(CultureInfo.InvariantCulture, $"{task.Value:0}/{task.MaxValue:0} hours"));
    }

    /// <summary>Hours of data per second (or seconds per hour when slower), from Spectre's running speed estimate.</summary>
    private sealed class RateColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(task.Speed switch
            {
                >= 1 and var speed => string.Create(CultureInfo.InvariantCulture, $"{speed:0.0} hours/s"),
                > 0 and var speed => string.Create(CultureInfo.InvariantCulture, $"{1 / speed:0.0} s/hour"),
                _ => "– s/hour",
            });
    }
}

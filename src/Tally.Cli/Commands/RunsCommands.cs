using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;
using Tally.Events;
using Tally.Workflow;

using Tally.Cli.DataFolder;

namespace Tally.Cli.Commands;

/// <summary>Options of the <c>runs</c> and <c>events</c> commands.</summary>
internal class HistorySettings : DataSettings
{
    /// <summary>The workflow state of an existing data folder.</summary>
    public async Task<WorkflowState> OpenStateAsync(CancellationToken cancellationToken)
    {
        OpenStore(); // the data folder must exist
        return await WorkflowState.OpenAsync(StateDirectory, Tally, cancellationToken);
    }

    internal static string Time(DateTimeOffset? time) => time?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "–";

    internal static string Duration(DateTimeOffset start, DateTimeOffset? end) =>
        end is { } e ? string.Create(CultureInfo.InvariantCulture, $"{(e - start).TotalSeconds:N1} s") : "–";

    internal static string StatusMarkup(RunStatus status) => Colour(status.Text(), status switch
    {
        RunStatus.Succeeded => "green",
        RunStatus.Running => "yellow",
        _ => "red",
    });

    internal static string StatusMarkup(StepOutcome outcome) => Colour(outcome.Text(), outcome switch
    {
        StepOutcome.Succeeded => "green",
        StepOutcome.Running => "yellow",
        _ => "red",
    });

    internal static string StatusMarkup(DeliveryStatus status) => Colour(status.Text(), status switch
    {
        DeliveryStatus.Delivered => "green",
        DeliveryStatus.Pending => "yellow",
        _ => "red",
    });

    private static string Colour(string text, string colour) => $"[{colour}]{text}[/]";
}

/// <summary>Options of the <c>runs</c> and <c>events</c> commands that print what they find.</summary>
internal class HistoryOutputSettings : HistorySettings
{
    [CommandOption("--format <FORMAT>")]
    [Description("table (default) or json.")]
    public string? Format { get; init; }
}

/// <summary><c>tally runs ls</c>: the run history, newest first.</summary>
internal sealed class RunsListCommand : AsyncCommand<RunsListCommand.Settings>
{
    internal sealed class Settings : HistoryOutputSettings
    {
        [CommandOption("--hour <HOUR>")]
        [Description("Only runs of this hour, yyyy-MM-ddTHH (UTC).")]
        public string? Hour { get; init; }

        [CommandOption("--status <STATUS>")]
        [Description("Only runs with this status: running, succeeded, failed, abandoned or cancelled.")]
        public string? Status { get; init; }

        [CommandOption("--limit <N>")]
        [Description("Runs shown, newest first. Default 50.")]
        public int Limit { get; init; } = 50;
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var format = OutputFormats.Parse(settings.Format);
        HourWindow? hour = settings.Hour is null ? null : HourWindow.Parse(settings.Hour);
        RunStatus? status = null;
        if (settings.Status is { } s)
        {
            status = RunText.Statuses.TryParse(s, out var parsed)
                ? parsed
                : throw TallyException.InvalidArgument($"--status must be one of {string.Join(", ", RunText.Statuses.Texts)}, not '{s}'.");
        }
        if (settings.Limit < 1) throw TallyException.InvalidArgument("--limit must be 1 or more.");
        using var state = await settings.OpenStateAsync(cancellationToken);
        await state.Runs.MarkAbandonedAsync(TimeProvider.System.GetUtcNow(), cancellationToken);
        var runs = await state.Runs.ListAsync(hour, status, settings.Limit, cancellationToken);

        if (format == OutputFormat.Json)
        {
            Console.Out.WriteLine(new JsonArray([.. runs.Select(r => (JsonNode)RunJson.Run(r))]).ToJsonString(CatalogJson.Options));
            return ExitCodes.Succeeded;
        }
        var table = new Table().AddColumns("run", "hour", "trigger", "status", "started (UTC)", "duration", "records", "error");
        foreach (var r in runs)
        {
            var records = r.Counters?.Records.ToString("N0", CultureInfo.InvariantCulture);
            table.AddRow(Markup.Escape(r.RunId), r.TargetHour.ToString(), r.Trigger.Text(), HistorySettings.StatusMarkup(r.Status),
                HistorySettings.Time(r.StartedAt), HistorySettings.Duration(r.StartedAt, r.EndedAt), records ?? "–", Markup.Escape(r.Error ?? ""));
        }
        AnsiConsole.Write(table);
        return ExitCodes.Succeeded;
    }
}

/// <summary><c>tally runs show RUN_ID</c>: one run with its steps, counters, outputs, error and events.</summary>
internal sealed class RunsShowCommand : AsyncCommand<RunsShowCommand.Settings>
{
    internal sealed class Settings : HistoryOutputSettings
    {
        [CommandArgument(0, "<RUN_ID>")]
        [Description("The run, as `tally runs ls` lists it.")]
        public string RunId { get; init; } = "";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var format = OutputFormats.Parse(settings.Format);
        using var state = await settings.OpenStateAsync(cancellationToken);
        await state.Runs.MarkAbandonedAsync(TimeProvider.System.GetUtcNow(), cancellationToken);
        var run = await state.Runs.FindAsync(settings.RunId, cancellationToken)
            ?? throw TallyException.NotFound($"There is no run '{settings.RunId}'; `tally runs ls` lists the runs.");
        var steps = await state.Runs.ListStepsAsync(run.RunId, cancellationToken);
        var events = await state.Outbox.ListAsync(run.RunId, 100, cancellationToken);
        var deliveries = (await Task.WhenAll(events.Select(e => state.Outbox.DeliveriesAsync(e.EventId, cancellationToken)))).SelectMany(d => d).ToList();

        if (format == OutputFormat.Json)
        {
            var json = RunJson.Run(run);
            json["steps"] = new JsonArray([.. steps.Select(s => (JsonNode)new JsonObject
            {
                ["state"] = s.State, ["attempt"] = s.Attempt, ["started_at"] = s.StartedAt, ["ended_at"] = s.EndedAt, ["outcome"] = s.Outcome.Text(), ["error"] = s.Error,
            })]);
            json["events"] = new JsonArray([.. events.Select(e => (JsonNode)RunJson.Event(e, deliveries))]);
            Console.Out.WriteLine(json.ToJsonString(CatalogJson.Options));
            return ExitCodes.Succeeded;
        }

        AnsiConsole.MarkupLineInterpolated($"[bold]{run.RunId}[/]  hour {run.TargetHour}  trigger {run.Trigger.Text()}  input {run.Input}");
        AnsiConsole.MarkupLine($"status {HistorySettings.StatusMarkup(run.Status)}  started {HistorySettings.Time(run.StartedAt)}  ended {HistorySettings.Time(run.EndedAt)}  by {Markup.Escape(run.Holder)}");
        if (run.Error is not null) AnsiConsole.MarkupLineInterpolated($"[red]{run.Error}[/] in {run.FailedState ?? "–"}: {run.Cause}");
        var grid = new Table().Title("Steps").AddColumns("state", "attempt", "started (UTC)", "duration", "outcome", "error");
        foreach (var s in steps)
        {
            grid.AddRow(s.State, s.Attempt.ToString(CultureInfo.InvariantCulture), HistorySettings.Time(s.StartedAt), HistorySettings.Duration(s.StartedAt, s.EndedAt),
                HistorySettings.StatusMarkup(s.Outcome), Markup.Escape(s.Error ?? ""));
        }
        AnsiConsole.Write(grid);
        if (run.Counters is { } counters) AnsiConsole.MarkupLineInterpolated($"Counters: {counters.ToJson().ToJsonString()}");
        if (run.Outputs is { Count: > 0 } tables)
        {
            var t = new Table().Title("Outputs").AddColumns("table", "rows", "file");
            foreach (var o in tables) t.AddRow(Markup.Escape(o.Table), o.Rows.ToString("N0", CultureInfo.InvariantCulture), Markup.Escape(o.Location));
            AnsiConsole.Write(t);
        }
        if (events.Count > 0) AnsiConsole.Write(EventsListCommand.EventTable(events, deliveries, "Events"));
        return ExitCodes.Succeeded;
    }
}

/// <summary><c>tally events ls</c>: stored events with their deliveries.</summary>
internal sealed class EventsListCommand : AsyncCommand<EventsListCommand.Settings>
{
    internal sealed class Settings : HistoryOutputSettings
    {
        [CommandOption("--run <RUN_ID>")]
        [Description("Only the events of this run.")]
        public string? Run { get; init; }

        [CommandOption("--limit <N>")]
        [Description("Events shown, newest first. Default 50.")]
        public int Limit { get; init; } = 50;
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var format = OutputFormats.Parse(settings.Format);
        if (settings.Limit < 1) throw TallyException.InvalidArgument("--limit must be 1 or more.");
        using var state = await settings.OpenStateAsync(cancellationToken);
        var events = await state.Outbox.ListAsync(settings.Run, settings.Limit, cancellationToken);
        var deliveries = await state.Outbox.DeliveriesAsync(null, cancellationToken);
        if (format == OutputFormat.Json)
        {
            Console.Out.WriteLine(new JsonArray([.. events.Select(e => (JsonNode)RunJson.Event(e, deliveries))]).ToJsonString(CatalogJson.Options));
            return ExitCodes.Succeeded;
        }
        AnsiConsole.Write(EventTable(events, deliveries, $"{events.Count} event(s), newest first"));
        return ExitCodes.Succeeded;
    }

    internal static Table EventTable(IReadOnlyList<StoredEvent> events, IReadOnlyList<EventDelivery> deliveries, string title)
    {
        var table = new Table().Title(Markup.Escape(title)).AddColumns("event", "time (UTC)", "detail-type", "hour", "failed state", "run", "deliveries");
        foreach (var e in events)
        {
            var summary = string.Join(", ", deliveries.Where(d => d.EventId == e.EventId)
                .Select(d => $"{d.Sink} {HistorySettings.StatusMarkup(d.Status)} ({d.Attempts} attempt{(d.Attempts == 1 ? "" : "s")})"));
            table.AddRow(e.EventId, HistorySettings.Time(e.CreatedAt), Markup.Escape(e.DetailType), e.TargetHour?.ToString() ?? "–",
                Markup.Escape(e.FailedState ?? "–"), Markup.Escape(e.RunId ?? ""), summary.Length > 0 ? summary : "[grey]no sink[/]");
        }
        return table;
    }
}

/// <summary><c>tally events redeliver EVENT_ID</c>: queues one event again for every configured sink and delivers it.</summary>
internal sealed class EventsRedeliverCommand : AsyncCommand<EventsRedeliverCommand.Settings>
{
    internal sealed class Settings : HistorySettings
    {
        [CommandArgument(0, "<EVENT_ID>")]
        [Description("The event, as `tally events ls` lists it.")]
        public string EventId { get; init; } = "";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var state = await settings.OpenStateAsync(cancellationToken);
        if (state.Sinks.Count == 0) throw TallyException.InvalidConfiguration("No event sink is configured (Events:Webhook:Url, Events:File:Path or Events:Log:Enabled); see the README's Configuration section.");
        var delivery = state.Settings.Events.Delivery;
        if (!await state.Outbox.RequeueAsync(settings.EventId, state.Sinks.Select(s => s.Name), TimeProvider.System.GetUtcNow(), delivery.Expiry, cancellationToken))
        {
            throw TallyException.NotFound($"There is no event '{settings.EventId}'; `tally events ls` lists the events.");
        }
        await state.DispatchAsync(delivery.WaitAfterRun, cancellationToken);
        var deliveries = await state.Outbox.DeliveriesAsync(settings.EventId, cancellationToken);
        foreach (var d in deliveries)
        {
            AnsiConsole.MarkupLine($"{Markup.Escape(d.EventId)} → {d.Sink}: {HistorySettings.StatusMarkup(d.Status)}{(d.Status == DeliveryStatus.Delivered ? "" : Markup.Escape($" ({d.LastError}); retried by the next tally run"))}");
        }
        return deliveries.Where(d => state.Sinks.Any(s => s.Name == d.Sink)).All(d => d.Status == DeliveryStatus.Delivered) ? ExitCodes.Succeeded : ExitCodes.Transient;
    }
}

using Spectre.Console.Cli;
using Tally.Cli.Commands;
using Tally.Workflow;

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    Stop("Ctrl+C");
};
// SIGTERM (kill, systemd, a container stopping) stops a command as Ctrl+C does: the runs going on are cancelled and
// recorded as such instead of being cut off. `tally serve`'s host handles SIGTERM itself, and exits 0.
using var sigterm = args is ["serve", ..] ? null : System.Runtime.InteropServices.PosixSignalRegistration.Create(
    System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
    {
        context.Cancel = true;
        Stop("SIGTERM");
    });

// Redirected output is read by programs and pasted into tickets: never wrap it at Spectre's 80-column guess.
if (Console.IsOutputRedirected) Spectre.Console.AnsiConsole.Profile.Width = 240;

var app = TallyCommandLine.NewApp();
app.Configure(config =>
{
    config.SetApplicationName("tally");
    // A mistyped or misplaced option is an error (exit 2), never silently ignored.
    config.UseStrictParsing();
    config.SetExceptionHandler((exception, _) => ExitCodes.Report(exception));
    config.CancellationExitCode(ExitCodes.Cancelled);

    config.AddCommand<DemoCommand>("demo")
        .WithDescription("Generates a few hours of the seed's raw hits, aggregates them into the configured tables and shows each table's top rows by its first metric: the whole hourly job on a local folder.")
        .WithExample("demo")
        .WithExample("demo", "--data", "./tally-data", "--hours", "3", "--hits-per-hour", "200000");
    config.AddCommand<GenerateCommand>("generate")
        .WithDescription("Writes realistic synthetic raw hits (the seed's fields) under raw_data/year=/month=/day=/hour=/minute=, the same for the same --seed. "
            + "With settings that declare other Source:Fields, --sample FILE writes records shaped like one of yours; without it the command refuses.")
        .WithExample("generate", "--data", "./tally-data", "--settings", "./my-settings.json", "--hour", "2026-11-24T13", "--sample", "./one-record.json")
        .WithExample("generate", "--data", "./tally-data", "--hour", "2026-11-24T13", "--hours", "3", "--hits-per-hour", "100000", "--seed", "42");
    config.AddCommand<RunCommand>("run")
        .WithDescription("Runs the workflow for one hour (ComputeTargetHour → AggregateHour → Succeeded, or FormatFailure → PublishFailureEvent → Failed): "
            + "aggregates it into the configured tables, records the run, publishes a failure event. Exit code 5 when another run of the hour is going on.")
        .WithExample("run", "--data", "./tally-data", "--hour", "2026-11-24T13")
        .WithExample("run", "--data", "./tally-data", "--input", "'{\"target_datetime\": \"2026-11-24T14:00:00Z\"}'", "--format", "json")
        .WithExample("run", "--data", "./tally-data", "--hour", "2026-11-24T13", "--wait", "60", "--settings", "./tally-settings.json");
    config.AddCommand<ServeCommand>("serve")
        .WithDescription("Runs the workflow on a cron schedule (UTC) as a long-running service: each tick processes the hour before it; "
            + "at start it catches up ticks missed since the last scheduled run; after each tick it runs again the recent hours whose raw files changed. "
            + "Serves the web dashboard and its JSON API on http://127.0.0.1:5080 (--port, --bind, --token). Stops cleanly on SIGTERM or Ctrl+C, recording the runs it cancels.")
        .WithExample("serve", "--data", "./tally-data")
        .WithExample("serve", "--data", "./tally-data", "--port", "8080", "--bind", "0.0.0.0", "--token", "\"$TALLY_TOKEN\"")
        .WithExample("serve", "--data", "./tally-data", "--cron", "'5 * * * *'", "--delay", "00:02:00");
    config.AddCommand<BackfillCommand>("backfill")
        .WithDescription("Runs the workflow (trigger backfill) for every hour from --from up to, not including, --to, oldest first, with a progress bar and a summary. "
            + "Skips hours that already succeeded with the raw input they have now, unless --force. Exit code 1 when any hour failed.")
        .WithExample("backfill", "--data", "./tally-data", "--from", "2026-11-01T00", "--to", "2026-11-02T00")
        .WithExample("backfill", "--data", "./tally-data", "--from", "2026-11-01T00", "--to", "2026-11-03T00", "--parallel", "2", "--force");
    config.AddCommand<QueryCommand>("query")
        .WithDescription("Runs one read-only SQL SELECT over the catalog's tables (DuckDB, in process); each database is a schema, each table a view. It is interrupted after Query:Timeout (30 s) and may use Query:MemoryLimit (1GiB); over either it exits 2.")
        .WithExample("query", "--data", "./tally-data", "'SELECT * FROM \"demo-aggregated-data\".\"hits_by_country\";'")
        .WithExample("query", "--data", "./tally-data", "--format", "json", "'SELECT * FROM \"demo-raw-data\".\"raw_data\" limit 10;'")
        .WithExample("query", "--format", "csv", "\"SELECT countrycode, hitcount FROM \\\"demo-aggregated-data\\\".\\\"hits_by_country\\\" WHERE year = '2026' AND month = '11' AND day = '24' AND hour = '13'\"");
    config.AddBranch("catalog", catalog =>
    {
        catalog.SetDescription("The metastore: databases, tables, columns and partitions (the embedded Glue Data Catalog).");
        catalog.AddCommand<CatalogListCommand>("ls")
            .WithDescription("Lists every table with its format, partitions, rows and bytes.")
            .WithExample("catalog", "ls", "--data", "./tally-data");
        catalog.AddCommand<CatalogShowCommand>("show")
            .WithDescription("Shows a table: columns, format, location, and its partitions with rows, bytes and the run that wrote each.")
            .WithExample("catalog", "show", "demo-aggregated-data.hits_by_country", "--data", "./tally-data")
            .WithExample("catalog", "show", "demo-raw-data.raw_data", "--format", "json", "--limit", "0");
        catalog.AddCommand<CatalogSyncCommand>("sync")
            .WithDescription("Rediscovers every raw partition (down to the minute) from the raw_data folders.")
            .WithExample("catalog", "sync", "--data", "./tally-data");
    });
    config.AddBranch("runs", runs =>
    {
        runs.SetDescription("The run history: every workflow run with its trigger, status, steps, counters and outputs.");
        runs.AddCommand<RunsListCommand>("ls")
            .WithDescription("Lists runs, newest first; marks runs whose process died as abandoned.")
            .WithExample("runs", "ls", "--data", "./tally-data")
            .WithExample("runs", "ls", "--hour", "2026-11-24T13", "--status", RunStatus.Failed.Text(), "--format", "json");
        runs.AddCommand<RunsShowCommand>("show")
            .WithDescription("Shows one run: its steps with times and outcomes, counters, outputs, error and cause, and the events it published.")
            .WithExample("runs", "show", "run-20261124T140005123Z-1a2b3c", "--data", "./tally-data");
    });
    config.AddBranch("events", events =>
    {
        events.SetDescription("The event outbox: failure (and success) events in the EventBridge envelope and their deliveries to the sinks.");
        events.AddCommand<EventsListCommand>("ls")
            .WithDescription("Lists stored events, newest first, with the hour each is about, the state its run failed in, and each sink's delivery status and attempts.")
            .WithExample("events", "ls", "--data", "./tally-data")
            .WithExample("events", "ls", "--run", "run-20261124T140005123Z-1a2b3c", "--format", "json");
        events.AddCommand<EventsRedeliverCommand>("redeliver")
            .WithDescription("Queues one event again for every configured sink and delivers it (retrying within Events:Delivery:WaitAfterRun).")
            .WithExample("events", "redeliver", "0f8fad5b-d9cb-469f-a165-70867728950e", "--data", "./tally-data");
    });
});

return await app.RunAsync(args, cancellation.Token);

// Said once the token is cancelled: whoever reads the line knows that the runs going on have been told to stop.
void Stop(string signal)
{
    cancellation.Cancel();
    Console.Error.WriteLine($"Stopping ({signal}): the runs going on are cancelled and recorded as cancelled.");
}

/// <summary>Where the command line is made.</summary>
internal static class TallyCommandLine
{
    /// <summary>A Spectre.Console.Cli app with its default type registrar.</summary>
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("AOT", "IL3050:RequiresDynamicCode",
        Justification = "The default registrar creates the command and settings types by reflection; a Native AOT build keeps Spectre.Console.Cli and tally whole (TrimmerRootAssembly), and every command runs in it (bench/README.md).")]
    public static CommandApp NewApp() => new();
}

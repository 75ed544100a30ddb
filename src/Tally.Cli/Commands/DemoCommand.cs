using System.ComponentModel;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;
using Tally.Engine;
using Tally.Metastore;
using Tally.Query;
using Tally.Synthetic;
using Tally.Workflow;
using RunStatus = Tally.Workflow.RunStatus;

using Tally.Cli.DataFolder;

namespace Tally.Cli.Commands;

internal sealed class DemoCommand : AsyncCommand<DemoCommand.Settings>
{
    internal sealed class Settings : DataSettings
    {
        [CommandOption("--hours <N>")]
        [Description("How many hours to generate and aggregate, ending with the last complete hour (UTC). Default 3.")]
        public int Hours { get; init; } = 3;

        [CommandOption("--hits-per-hour <N>")]
        [Description("Records per generated hour. Default 200000.")]
        public long HitsPerHour { get; init; } = 200_000;

        [CommandOption("--seed <N>")]
        [Description("Random seed of the generated data. Default 42.")]
        public int Seed { get; init; } = 42;

        [CommandOption("--top <N>")]
        [Description("Rows shown per table. Default 10.")]
        public int Top { get; init; } = 10;
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var lastHour = WorkflowContract.TargetHour(TimeProvider.System.GetUtcNow());
        var options = new GeneratorOptions(lastHour.AddHours(1 - settings.Hours), settings.Hours, settings.HitsPerHour, settings.Seed);
        options.Validate();
        var tally = settings.Tally;
        var tallyOptions = tally.ToOptions();
        RawDataGenerator.EnsureGenerates(tallyOptions.Source, "tally demo");
        var store = settings.CreateStore();
        var reports = new List<RunReport>();
        using var state = await WorkflowState.OpenAsync(settings.StateDirectory, tally, cancellationToken);
        var workflow = await state.WorkflowAsync(store, cancellationToken);
        var catalog = await settings.OpenCatalogAsync(store, tallyOptions, cancellationToken);

        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var generating = ctx.AddTask($"Generating {options.HitsPerHour * options.Hours:N0} raw hits", maxValue: Math.Max(options.HitsPerHour * options.Hours, 1));
                var running = ctx.AddTask($"Aggregating {options.Hours} hour(s)", autoStart: false, maxValue: options.Hours);
                await new RawDataGenerator(store).GenerateAsync(options, new Progress<long>(n => generating.Value = n), cancellationToken);
                generating.Value = generating.MaxValue;
                running.StartTask();
                foreach (var hour in HourWindow.Range(options.FirstHour, lastHour.AddHours(1)))
                {
                    var result = await workflow.RunAsync(WorkflowContract.InputFor(hour), RunTrigger.Manual, TimeSpan.FromSeconds(30), null, cancellationToken);
                    var ran = result as WorkflowResult.Started
                        ?? throw TallyException.Transient($"{hour} is being aggregated by {((WorkflowResult.Held)result).HeldBy.Holder}; run the demo again once it ended.");
                    reports.Add(ran.Report ?? throw TallyException.Transient($"{hour} failed: {ran.Run.Cause}"));
                    running.Increment(1);
                }
            });

        var summary = new Table().Title("Runs").AddColumns("hour", "status", "records", "rejected", "files", "duration");
        foreach (var r in reports)
        {
            summary.AddRow(r.TargetHour, HistorySettings.StatusMarkup(r.Status == Engine.RunStatus.Succeeded ? RunStatus.Succeeded : RunStatus.Failed),
                r.Records.ToString("N0", CultureInfo.InvariantCulture), r.Rejected.ToString("N0", CultureInfo.InvariantCulture),
                r.Files.ToString(CultureInfo.InvariantCulture), $"{r.DurationMs:N0} ms");
        }
        AnsiConsole.Write(summary);

        using (var sql = await QueryService.OpenAsync(catalog, store, settings.StateDirectory, tally.Query.Limits(), cancellationToken))
        {
            foreach (var table in tallyOptions.Tables()) ShowTopRows(sql, tallyOptions.AggregatedDatabase, table, lastHour, settings.Top, cancellationToken);

            // Each table's query in the seed's form (with the default tables, the seed's Athena queries verbatim), through the catalog and DuckDB.
            var queries = tallyOptions.Tables().Select(t => $"SELECT * FROM {QueryService.Identifier(tallyOptions.AggregatedDatabase)}.{QueryService.Identifier(t.Table)};")
                .Append($"SELECT * FROM {QueryService.Identifier(tallyOptions.RawDatabase)}.{QueryService.Identifier(tallyOptions.RawTable)} limit 10;").ToList();
            AnsiConsole.MarkupLineInterpolated($"{(queries.SequenceEqual(SeedQueries.All) ? "The seed's queries" : "Each table's query")} (tally query --data {settings.Data} \"...\"), first rows:");
            foreach (var query in queries)
            {
                using var result = sql.Execute(query, cancellationToken);
                QueryOutput.Write(result, QueryFormat.Table, Math.Min(settings.Top, 5), query);
            }
        }

        var failed = reports.Count(r => r.Status != Engine.RunStatus.Succeeded);
        Console.Out.WriteLine($"The files are in {(settings.S3Data is { } s3 ? s3.ToString() : Path.GetFullPath(settings.Data))} (raw_data/, aggregated_data/, quarantine/).");
        return failed == 0 ? ExitCodes.Succeeded : ExitCodes.Failed;
    }

    /// <summary>
    /// Prints the <paramref name="top"/> rows of <paramref name="table"/>'s <paramref name="hour"/>, its largest values of
    /// its first metric first (nulls last), through the same SQL as <c>tally query</c>.
    /// </summary>
    private static void ShowTopRows(QueryService sql, string database, TableDefinition table, HourWindow hour, int top, CancellationToken cancellationToken)
    {
        var from = $"{QueryService.Identifier(database)}.{QueryService.Identifier(table.Table)} WHERE "
            + string.Join(" AND ", DataLayout.HourKeys.Zip(DataLayout.HourPartitionValues(hour), (k, v) => $"{QueryService.Identifier(k.Key)} = {QueryService.Literal(v)}"));
        long rows;
        using (var count = sql.Execute($"SELECT count(*) FROM {from}", cancellationToken)) rows = Convert.ToInt64(count.Rows.Single()[0], CultureInfo.InvariantCulture);
        var metric = QueryService.Identifier(table.Metrics[0].Column);
        var keys = string.Join("", table.GroupBy.Select(f => $", {QueryService.Identifier(f.Column)}"));
        AnsiConsole.WriteLine();
        AnsiConsole.MarkupLineInterpolated($"[bold]{database}.{table.Table}[/], hour {hour}: top {top} of {rows:N0} rows by {table.Metrics[0].Column}");
        using var result = sql.Execute(
            $"SELECT {string.Join(", ", table.Columns.Select(c => QueryService.Identifier(c.Name)))} FROM {from} ORDER BY {metric} DESC NULLS LAST{keys} LIMIT {top.ToString(CultureInfo.InvariantCulture)}",
            cancellationToken);
        QueryOutput.Write(result, QueryFormat.Table, top);
    }
}

using Spectre.Console.Cli;
using Tally.Cli;
using Tally.Cli.Commands;

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

// Redirected output is read by programs and pasted into tickets: never wrap it at Spectre's 80-column guess.
if (Console.IsOutputRedirected) Spectre.Console.AnsiConsole.Profile.Width = 240;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("tally");
    config.SetExceptionHandler((exception, _) => ExitCodes.Report(exception));
    config.CancellationExitCode(ExitCodes.Cancelled);

    config.AddCommand<DemoCommand>("demo")
        .WithDescription("Generates a few hours of raw hits, aggregates them and shows the tables: the whole hourly job on a local folder.")
        .WithExample("demo")
        .WithExample("demo", "--data", "./tally-data", "--hours", "3", "--hits-per-hour", "200000");
    config.AddCommand<GenerateCommand>("generate")
        .WithDescription("Writes realistic synthetic raw hits under raw_data/year=/month=/day=/hour=/minute=, the same for the same --seed.")
        .WithExample("generate", "--data", "./tally-data", "--hour", "2026-11-24T13", "--hours", "3", "--hits-per-hour", "100000", "--seed", "42");
    config.AddCommand<RunCommand>("run")
        .WithDescription("Aggregates one hour of raw hits into the configured tables (by country; by domain and group id; by user agent).")
        .WithExample("run", "--data", "./tally-data", "--hour", "2026-11-24T13")
        .WithExample("run", "--data", "./tally-data", "--input", "'{\"target_datetime\": \"2026-11-24T14:00:00Z\"}'", "--format", "json");
});

return await app.RunAsync(args, cancellation.Token);

using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Tally.Synthetic;

namespace Tally.Cli.Commands;

internal sealed class GenerateCommand : AsyncCommand<GenerateCommand.Settings>
{
    internal sealed class Settings : DataSettings
    {
        [CommandOption("--hour <HOUR>")]
        [Description("The first hour to generate, yyyy-MM-ddTHH in UTC, for example 2026-11-24T13. Required.")]
        public string? Hour { get; init; }

        [CommandOption("--hours <N>")]
        [Description("How many consecutive hours. Default 1.")]
        public int Hours { get; init; } = 1;

        [CommandOption("--hits-per-hour <N>")]
        [Description("Records per hour. Default 100000 (about 26 MB of JSON).")]
        public long HitsPerHour { get; init; } = 100_000;

        [CommandOption("--seed <N>")]
        [Description("Random seed; the same seed writes the same bytes. Default 42.")]
        public int Seed { get; init; } = 42;

        [CommandOption("--files-per-minute <N>")]
        [Description("Files in each minute folder. Default 1.")]
        public int FilesPerMinute { get; init; } = 1;

        [CommandOption("--gzip")]
        [Description("Write gzip-compressed .json.gz files.")]
        public bool Gzip { get; init; }

        [CommandOption("--sample <FILE>")]
        [Description("A raw record of your own (a JSON file; its first object): write records of the declared Source:Fields shaped like it, values drawn around its values, instead of the seed's records.")]
        public string? Sample { get; init; }

        public override ValidationResult Validate() =>
            Hour is null ? ValidationResult.Error("--hour is required, for example --hour 2026-11-24T13.") : ValidationResult.Success();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var options = new GeneratorOptions(HourWindow.Parse(settings.Hour!), settings.Hours, settings.HitsPerHour, settings.Seed, settings.FilesPerMinute, settings.Gzip);
        options.Validate();
        var source = settings.Tally.ToOptions().Source;
        var sample = settings.Sample is null ? null : SampleRecords.Load(source, settings.Sample);
        if (sample is null) RawDataGenerator.EnsureGenerates(source, "tally generate", "or give --sample FILE with one of your records to imitate");
        var store = settings.CreateStore();
        var generator = new RawDataGenerator(store, sample);
        var total = options.HitsPerHour * options.Hours;
        IReadOnlyList<string> keys = [];
        if (OutputFormats.CanShowProgress(OutputFormat.Table))
        {
            await AnsiConsole.Progress().AutoClear(true).StartAsync(async ctx =>
            {
                var task = ctx.AddTask("Generating raw hits", maxValue: Math.Max(total, 1));
                keys = await generator.GenerateAsync(options, new Progress<long>(n => task.Value = n), cancellationToken);
                task.Value = task.MaxValue;
            });
        }
        else
        {
            keys = await generator.GenerateAsync(options, null, cancellationToken);
        }
        Console.Out.WriteLine($"Wrote {total:N0} records in {keys.Count:N0} files for {options.Hours} hour(s) from {options.FirstHour} under {store.Describe(Tally.DataLayout.RawPrefix)}");
        return ExitCodes.Succeeded;
    }
}

using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Tally.Query;

namespace Tally.Cli.Commands;

internal sealed class QueryCommand : AsyncCommand<QueryCommand.Settings>
{
    internal sealed class Settings : DataSettings
    {
        [CommandArgument(0, "[SQL]")]
        [Description("One SELECT statement; without it the statement is read from stdin. Tables are \"database\".\"table\", for example \"demo-aggregated-data\".\"hits_by_country\".")]
        public string? Sql { get; init; }

        [CommandOption("--format <FORMAT>")]
        [Description("table (default), csv (with a header row) or json (one array of row objects; bigint as numbers, null as null).")]
        public string? Format { get; init; }

        [CommandOption("--max-rows <N>")]
        [Description("Rows shown by --format table. Default 1000; csv and json print every row.")]
        public int MaxRows { get; init; } = 1000;

        public override ValidationResult Validate() =>
            MaxRows < 1 ? ValidationResult.Error("--max-rows must be 1 or more.") : ValidationResult.Success();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var format = QueryOutput.Parse(settings.Format);
        var sql = settings.Sql ?? await ReadStdinAsync(cancellationToken);
        var store = settings.OpenStore();
        var tally = settings.Tally;
        var catalog = await settings.OpenCatalogAsync(store, tally.ToOptions(), cancellationToken);
        using var service = await QueryService.OpenAsync(catalog, store, settings.StateDirectory, tally.Query.Limits(), cancellationToken);
        using var result = service.Execute(sql, cancellationToken);
        QueryOutput.Write(result, format, settings.MaxRows);
        return ExitCodes.Succeeded;
    }

    private static async Task<string> ReadStdinAsync(CancellationToken cancellationToken)
    {
        if (!Console.IsInputRedirected)
        {
            throw TallyException.InvalidArgument("Give the SQL as the argument, or pipe it on stdin, for example: tally query \"SELECT * FROM \\\"demo-aggregated-data\\\".\\\"hits_by_country\\\"\".");
        }
        return await Console.In.ReadToEndAsync(cancellationToken);
    }
}

using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Spectre.Console;
using Spectre.Console.Cli;
using Tally.Metastore;
using Tally.Storage;

namespace Tally.Cli.Commands;

/// <summary>Options of the <c>catalog</c> commands.</summary>
internal class CatalogSettings : DataSettings
{
    public async Task<(IObjectStore Store, Catalog Catalog)> OpenAsync(CancellationToken cancellationToken)
    {
        var store = OpenStore();
        return (store, await OpenCatalogAsync(store, Tally.ToOptions(), cancellationToken));
    }
}

/// <summary><c>tally catalog ls</c>: every database and table with partitions, rows and bytes.</summary>
/// <summary>Options of the <c>catalog</c> commands that print what they find.</summary>
internal class CatalogOutputSettings : CatalogSettings
{
    [CommandOption("--format <FORMAT>")]
    [Description("table (default) or json.")]
    public string? Format { get; init; }
}

internal sealed class CatalogListCommand : AsyncCommand<CatalogOutputSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, CatalogOutputSettings settings, CancellationToken cancellationToken)
    {
        var format = OutputFormats.Parse(settings.Format);
        var (store, catalog) = await settings.OpenAsync(cancellationToken);
        var tables = await catalog.ListTablesAsync(cancellationToken);
        if (format == OutputFormat.Json)
        {
            Console.Out.WriteLine(new JsonArray([.. tables.Select(t => (JsonNode)new JsonObject
            {
                ["database"] = t.Table.Database, ["table"] = t.Table.Name, ["format"] = t.Table.Format, ["location"] = store.Describe(t.Table.Location),
                ["columns"] = t.Table.Columns.Count, ["partitions"] = t.Partitions, ["rows"] = t.Rows, ["bytes"] = t.Bytes,
            })]).ToJsonString(CatalogJson.Options));
            return ExitCodes.Succeeded;
        }
        var table = new Table().Title($"Catalog {Markup.Escape(catalog.FilePath)}, locations under {Markup.Escape(store.Describe(""))}").AddColumns("database", "table", "format", "partitions", "rows", "bytes", "location");
        foreach (var i in new[] { 3, 4, 5 }) table.Columns[i].RightAligned();
        foreach (var t in tables)
        {
            table.AddRow(Markup.Escape(t.Table.Database), Markup.Escape(t.Table.Name), t.Table.Format, Count(t.Partitions), t.Rows is { } r ? Count(r) : "[grey]–[/]",
                Count(t.Bytes), Markup.Escape(t.Table.Location));
        }
        AnsiConsole.Write(table);
        return ExitCodes.Succeeded;
    }

    internal static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}

/// <summary><c>tally catalog show db.table</c>: columns, format, location and partitions.</summary>
internal sealed class CatalogShowCommand : AsyncCommand<CatalogShowCommand.Settings>
{
    internal sealed class Settings : CatalogOutputSettings
    {
        [CommandArgument(0, "<TABLE>")]
        [Description("database.table, for example demo-aggregated-data.hits_by_country.")]
        public string Table { get; init; } = "";

        [CommandOption("--limit <N>")]
        [Description("Partitions shown, newest first. Default 50; 0 shows all.")]
        public int Limit { get; init; } = 50;
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var format = OutputFormats.Parse(settings.Format);
        var (database, name) = ParseName(settings.Table);
        var (store, catalog) = await settings.OpenAsync(cancellationToken);
        var table = await catalog.FindTableAsync(database, name, cancellationToken)
            ?? throw TallyException.NotFound($"There is no table '{name}' in database '{database}'; `tally catalog ls` lists the tables.");
        var partitions = await catalog.ListPartitionsAsync(database, name, cancellationToken);
        var shown = settings.Limit > 0 ? partitions.Take(settings.Limit).ToList() : partitions;

        if (format == OutputFormat.Json)
        {
            static JsonArray Columns(IEnumerable<TableColumn> columns) =>
                [.. columns.Select(c => (JsonNode)new JsonObject { ["name"] = c.Name, ["type"] = c.CatalogType })];
            Console.Out.WriteLine(new JsonObject
            {
                ["database"] = database, ["table"] = name, ["format"] = table.Format, ["location"] = store.Describe(table.Location),
                ["columns"] = Columns(table.Columns),
                ["partition_keys"] = Columns(table.PartitionKeys),
                ["partitions"] = new JsonArray([.. shown.Select(p => (JsonNode)new JsonObject
                {
                    ["values"] = new JsonArray([.. p.Values.Select(v => (JsonNode?)v)]), ["location"] = store.Describe(p.Location), ["rows"] = p.Rows,
                    ["bytes"] = p.Bytes, ["run_id"] = p.RunId, ["input_fingerprint"] = p.InputFingerprint, ["written_at"] = p.WrittenAt,
                })]),
                ["partitions_total"] = partitions.Count,
            }.ToJsonString(CatalogJson.Options));
            return ExitCodes.Succeeded;
        }

        AnsiConsole.MarkupLineInterpolated($"[bold]{table.QualifiedName}[/]  format {table.Format}  location {store.Describe(table.Location)}");
        var columns = new Table().AddColumns("column", "type", "partition key");
        foreach (var c in table.Columns) columns.AddRow(Markup.Escape(c.Name), c.CatalogType, "");
        foreach (var c in table.PartitionKeys) columns.AddRow(Markup.Escape(c.Name), c.CatalogType, "yes");
        AnsiConsole.Write(columns);

        var keys = table.PartitionKeys.Select(k => k.Name).ToList();
        var grid = new Table().Title($"{partitions.Count:N0} partition(s), newest first").AddColumns("partition", "rows", "bytes", "run", "written (UTC)");
        grid.Columns[1].RightAligned();
        grid.Columns[2].RightAligned();
        foreach (var p in shown)
        {
            var values = string.Join('/', keys.Zip(p.Values, (k, v) => $"{k}={v}"));
            grid.AddRow(Markup.Escape(values), p.Rows is { } r ? CatalogListCommand.Count(r) : "[grey]–[/]", CatalogListCommand.Count(p.Bytes),
                Markup.Escape(p.RunId ?? "discovered"), p.WrittenAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(grid);
        if (shown.Count < partitions.Count) AnsiConsole.MarkupLine($"[grey]{partitions.Count - shown.Count:N0} older partition(s) not shown; use --limit 0.[/]");
        return ExitCodes.Succeeded;
    }

    /// <summary>Splits <c>database.table</c> at the last dot; double quotes around either part are dropped.</summary>
    internal static (string Database, string Table) ParseName(string text)
    {
        var dot = text.LastIndexOf('.');
        if (dot <= 0 || dot == text.Length - 1)
        {
            throw TallyException.InvalidArgument($"'{text}' is not database.table; write it as demo-aggregated-data.hits_by_country.");
        }
        return (text[..dot].Trim('"'), text[(dot + 1)..].Trim('"'));
    }
}

/// <summary><c>tally catalog sync</c>: rediscovers every raw partition from the folders.</summary>
internal sealed class CatalogSyncCommand : AsyncCommand<CatalogSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, CatalogSettings settings, CancellationToken cancellationToken)
    {
        var (store, catalog) = await settings.OpenAsync(cancellationToken);
        var found = await catalog.DiscoverRawPartitionsAsync(null, cancellationToken);
        AnsiConsole.MarkupLineInterpolated($"Registered {found:N0} raw partition(s) (minutes) found under {store.Describe(DataLayout.RawPrefix)}.");
        return ExitCodes.Succeeded;
    }
}

internal static class CatalogJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}

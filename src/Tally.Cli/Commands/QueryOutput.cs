using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Spectre.Console;
using Tally.Query;

namespace Tally.Cli.Commands;

/// <summary>How <c>tally query</c> prints rows.</summary>
internal enum QueryFormat
{
    Table,
    Csv,
    Json,
}

/// <summary>Prints a query result as a terminal table, CSV with a header row, or one JSON array of row objects.</summary>
internal static class QueryOutput
{
    public static QueryFormat Parse(string? text) => text?.ToLowerInvariant() switch
    {
        null or "table" => QueryFormat.Table,
        "csv" => QueryFormat.Csv,
        "json" => QueryFormat.Json,
        _ => throw TallyException.InvalidArgument($"--format must be table, csv or json, not '{text}'."),
    };

    /// <summary>Writes the result; a table shows at most <paramref name="maxTableRows"/> rows. Returns the rows written.</summary>
    public static long Write(QueryResult result, QueryFormat format, int maxTableRows, string? title = null)
    {
        switch (format)
        {
            case QueryFormat.Json:
                return WriteJson(result);
            case QueryFormat.Csv:
                return WriteCsv(result);
            default:
                return WriteTable(result, maxTableRows, title);
        }
    }

    private static long WriteTable(QueryResult result, int maxRows, string? title)
    {
        var table = new Table().Border(TableBorder.Rounded);
        if (title is not null) table.Title(Markup.Escape(title));
        foreach (var column in result.Columns)
        {
            var c = new Spectre.Console.TableColumn(Markup.Escape(column.Name));
            if (IsNumeric(column.Type)) c.RightAligned();
            table.AddColumn(c);
        }
        long shown = 0;
        var more = false;
        foreach (var row in result.Rows)
        {
            if (shown == maxRows)
            {
                more = true;
                break;
            }
            table.AddRow(row.Select(v => v is null ? "[grey]NULL[/]" : Markup.Escape(Shorten(QueryValues.Text(v)))).ToArray());
            shown++;
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(more
            ? $"[grey]Showing the first {shown:N0} rows; use --max-rows, or --format csv|json for every row.[/]"
            : $"[grey]{shown:N0} row(s).[/]");
        return shown;
    }

    /// <summary>Long values (user agents) are cut in the terminal table so rows stay on a line or two; csv and json keep them whole.</summary>
    private static string Shorten(string text) => text.Length <= MaxCellChars ? text : text[..(MaxCellChars - 1)] + "…";

    private const int MaxCellChars = 40;

    private static long WriteCsv(QueryResult result)
    {
        using var output = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16) { NewLine = "\n" };
        output.WriteLine(string.Join(',', result.Columns.Select(c => Csv(c.Name))));
        long rows = 0;
        foreach (var row in result.Rows)
        {
            output.WriteLine(string.Join(',', row.Select(v => v is null ? "" : Csv(QueryValues.Text(v)))));
            rows++;
        }
        return rows;
    }

    private static long WriteJson(QueryResult result)
    {
        using var stdout = Console.OpenStandardOutput();
        using var json = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        json.WriteStartArray();
        long rows = 0;
        foreach (var row in result.Rows)
        {
            json.WriteStartObject();
            for (var i = 0; i < row.Length; i++)
            {
                json.WritePropertyName(result.Columns[i].Name);
                QueryValues.WriteJson(json, row[i]);
            }
            json.WriteEndObject();
            if (++rows % 1024 == 0) json.Flush();
        }
        json.WriteEndArray();
        json.Flush();
        stdout.Write("\n"u8);
        return rows;
    }

    private static bool IsNumeric(string duckType) =>
        duckType.Contains("INT", StringComparison.OrdinalIgnoreCase) || duckType is "DOUBLE" or "FLOAT" || duckType.StartsWith("DECIMAL", StringComparison.OrdinalIgnoreCase);

    private static string Csv(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;
}

using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Tally.Tests;

/// <summary>
/// A state folder's metastore (<c>metastore.db</c>, as the README names it) as the tests look at it: read-only, rows of
/// strings ("" for null). Linked by the command line's and the dashboard's test projects too.
/// </summary>
internal static class MetastoreRows
{
    public static List<string[]> Read(string stateDirectory, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(stateDirectory, "metastore.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string[]>();
        while (reader.Read())
        {
            rows.Add(Enumerable.Range(0, reader.FieldCount)
                .Select(i => reader.IsDBNull(i) ? "" : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture)!).ToArray());
        }
        return rows;
    }

    /// <summary>As <see cref="Read"/>, or no rows while the metastore does not exist yet or its tables are being created.</summary>
    public static List<string[]> ReadIfAny(string stateDirectory, string sql)
    {
        if (!File.Exists(Path.Combine(stateDirectory, "metastore.db"))) return [];
        try
        {
            return Read(stateDirectory, sql);
        }
        catch (SqliteException)
        {
            return [];
        }
    }
}

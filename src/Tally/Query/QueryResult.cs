using System.Data.Common;

namespace Tally.Query;

/// <summary>A result column: its name and DuckDB type, upper-case (<c>VARCHAR</c>, <c>BIGINT</c>, <c>HUGEINT</c>, …).</summary>
public sealed record QueryColumn(string Name, string Type);

/// <summary>
/// The result of one query, streamed: read <see cref="Rows"/> once, then dispose. Values are <see cref="string"/>,
/// <see cref="long"/> and the other CLR types DuckDB.NET maps to, or null. The query's time limit goes on while the rows are
/// read. Not thread-safe.
/// </summary>
public sealed class QueryResult : IDisposable
{
    private readonly DbCommand _command;
    private readonly DbDataReader _reader;
    private readonly QueryDeadline _deadline;
    private readonly Func<Exception, Exception> _translate;

    internal QueryResult(DbCommand command, DbDataReader reader, QueryDeadline deadline, Func<Exception, Exception> translate)
    {
        _command = command;
        _reader = reader;
        _deadline = deadline;
        _translate = translate;
        Columns = Enumerable.Range(0, reader.FieldCount).Select(i => new QueryColumn(reader.GetName(i), reader.GetDataTypeName(i).ToUpperInvariant())).ToList();
    }

    public IReadOnlyList<QueryColumn> Columns { get; }

    /// <summary>The rows, read as they are enumerated.</summary>
    /// <exception cref="TallyException">When DuckDB fails while producing rows; Timeout when the query's time limit passes.</exception>
    /// <exception cref="OperationCanceledException">When the caller's cancellation token interrupts the query.</exception>
    public IEnumerable<object?[]> Rows
    {
        get
        {
            while (true)
            {
                object?[] row;
                try
                {
                    if (!_reader.Read()) yield break;
                    row = new object?[_reader.FieldCount];
                    for (var i = 0; i < row.Length; i++) row[i] = _reader.IsDBNull(i) ? null : _reader.GetValue(i);
                }
                catch (Exception e) when (e is not TallyException)
                {
                    throw _translate(e);
                }
                yield return row;
            }
        }
    }

    public void Dispose()
    {
        _deadline.Dispose();
        _reader.Dispose();
        _command.Dispose();
    }
}

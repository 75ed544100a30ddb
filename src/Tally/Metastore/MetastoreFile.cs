using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Tally.Metastore;

/// <summary>
/// How every part of Tally opens the one SQLite metastore file: WAL-friendly settings (no pooling, a 30 s busy timeout
/// on both the connection and the database), foreign keys on, and the small helpers the catalog and the run store share.
/// </summary>
internal static class MetastoreFile
{
    private static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The connection string for the metastore at <paramref name="path"/> (created when missing).</summary>
    public static string ConnectionString(string path) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Pooling = false,
        DefaultTimeout = (int)BusyTimeout.TotalSeconds,
    }.ToString();

    /// <summary>An open connection with the busy timeout and foreign keys set; the caller disposes it.</summary>
    public static async Task<SqliteConnection> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await Command(connection, null, $"PRAGMA busy_timeout = {(int)BusyTimeout.TotalMilliseconds}; PRAGMA foreign_keys = ON;")
                .ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A command with named parameters (null becomes SQL NULL).</summary>
    public static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    /// <summary>
    /// The error for a failed operation on the metastore at <paramref name="path"/>: transient, naming the file, and saying so
    /// when the disk holding it is full (SQLite reports that as "database or disk is full", or as an I/O error when even its
    /// shared-memory file cannot grow). SQLite rolls the transaction back, so nothing of it was recorded.
    /// </summary>
    public static TallyException Failure(string path, SqliteException e)
    {
        const int Full = 13, IoError = 10, CantOpen = 14; // SQLITE_FULL, SQLITE_IOERR, SQLITE_CANTOPEN
        var full = e.SqliteErrorCode == Full || (e.SqliteErrorCode is IoError or CantOpen && FreeBytes(path) is < 64 * 1024);
        return full
            ? TallyException.Transient($"The metastore '{path}' cannot be written: the disk holding it is full. Nothing of this operation was recorded; free space, then run again.", e)
            : TallyException.Transient($"The metastore '{path}' failed: {e.Message}", e);
    }

    /// <summary>The bytes free to this process on the file system of <paramref name="path"/>'s folder, or null when unknown.</summary>
    private static long? FreeBytes(string path)
    {
        try
        {
            return new DriveInfo(Path.GetDirectoryName(Path.GetFullPath(path))!).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>UTC to the millisecond, <c>2026-11-24T13:00:00.000Z</c>: sorts and compares as text.</summary>
    public static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}

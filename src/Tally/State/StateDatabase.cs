using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Tally.State;

/// <summary>
/// The one owner of the metastore file (<c>&lt;state&gt;/metastore.db</c>): it alone opens it, migrates its schema
/// (<see cref="StateSchema"/>, versioned with <c>PRAGMA user_version</c>), sets WAL and the busy timeout, converts times
/// to and from their text, and turns SQLite failures into <see cref="TallyException"/>s. The catalog, the run store and the
/// event outbox read and write their tables through it.
/// </summary>
/// <remarks>
/// WAL and a busy timeout give one writer and any number of readers, in this or other processes, at once; readers see the
/// last committed state. Every operation opens its own connection (no pooling), so an instance is safe from several threads.
/// </remarks>
public sealed class StateDatabase
{
    /// <summary>The metastore file's name inside the state directory.</summary>
    internal const string FileName = "metastore.db";

    /// <summary>How long an operation waits for another process's write lock before it fails (as transient).</summary>
    private readonly TimeSpan _busyTimeout;

    private readonly string _connectionString;

    private StateDatabase(string path, StateSettings settings)
    {
        FilePath = path;
        _busyTimeout = settings.BusyTimeout;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(settings.BusyTimeout.TotalSeconds)),
        }.ToString();
    }

    /// <summary>The metastore file, a full path.</summary>
    internal string FilePath { get; }

    /// <summary>
    /// Opens the metastore in <paramref name="stateDirectory"/>, creating the folder and the file when missing and applying
    /// the migrations the file lacks. Safe when several processes open the same file at once.
    /// </summary>
    /// <exception cref="TallyException">InvalidArgument when the folder cannot be created; Transient when the file cannot be
    /// opened or stays locked; InvalidConfiguration when a newer Tally wrote it.</exception>
    public static Task<StateDatabase> OpenAsync(string stateDirectory, CancellationToken cancellationToken) =>
        OpenAsync(stateDirectory, new StateSettings(), cancellationToken);

    /// <inheritdoc cref="OpenAsync(string, CancellationToken)"/>
    /// <param name="settings">The <c>State</c> settings (the busy timeout).</param>
    public static async Task<StateDatabase> OpenAsync(string stateDirectory, StateSettings settings, CancellationToken cancellationToken)
    {
        try
        {
            Directory.CreateDirectory(stateDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw TallyException.InvalidArgument($"Cannot create the state directory '{stateDirectory}': {e.Message}");
        }
        var db = new StateDatabase(Path.Combine(Path.GetFullPath(stateDirectory), FileName), settings);
        await db.MigrateAsync(cancellationToken).ConfigureAwait(false);
        return db;
    }

    private Task MigrateAsync(CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // WAL is a property of the file: set once, it stays for every later connection.
        await Command(connection, null, "PRAGMA journal_mode = WAL").ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var version = Convert.ToInt32(await Command(connection, transaction, "PRAGMA user_version").ExecuteScalarAsync(cancellationToken).ConfigureAwait(false),
            CultureInfo.InvariantCulture);
        if (version > StateSchema.Version)
        {
            throw TallyException.InvalidConfiguration(
                $"The metastore '{FilePath}' has schema version {version}, newer than this Tally understands ({StateSchema.Version}); upgrade Tally.");
        }
        if (version == StateSchema.Version) return 0;
        foreach (var migration in StateSchema.Migrations.Skip(version))
        {
            await Command(connection, transaction, migration).ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await Command(connection, transaction, $"PRAGMA user_version = {StateSchema.Version}").ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return 0;
    });

    /// <summary>Runs <paramref name="work"/> in one write transaction (BEGIN IMMEDIATE: it holds the write lock from its start).</summary>
    /// <exception cref="TallyException">Transient when the metastore fails; nothing of the transaction is kept then.</exception>
    internal Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> work, CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var result = await work(connection, transaction).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return result;
    });

    /// <summary>Runs <paramref name="work"/> on a connection of its own, outside any explicit transaction.</summary>
    /// <exception cref="TallyException">Transient when the metastore fails.</exception>
    internal Task<T> ReadAsync<T>(Func<SqliteConnection, Task<T>> work, CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await work(connection).ConfigureAwait(false);
    });

    /// <summary>An open connection with the busy timeout and foreign keys set; the caller disposes it.</summary>
    private async Task<SqliteConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await Command(connection, null, $"PRAGMA busy_timeout = {(int)_busyTimeout.TotalMilliseconds}; PRAGMA foreign_keys = ON;")
                .ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task<T> GuardAsync<T>(Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (SqliteException e)
        {
            throw Failure(e);
        }
    }

    /// <summary>
    /// The error for a failed operation: transient, naming the file, and saying so when the disk holding it is full (SQLite
    /// reports that as "database or disk is full", or as an I/O error when even its shared-memory file cannot grow). SQLite
    /// rolls the transaction back, so nothing of it was recorded.
    /// </summary>
    private TallyException Failure(SqliteException e)
    {
        const int Full = 13, IoError = 10, CantOpen = 14; // SQLITE_FULL, SQLITE_IOERR, SQLITE_CANTOPEN
        var full = e.SqliteErrorCode == Full || (e.SqliteErrorCode is IoError or CantOpen && FreeBytes(FilePath) is < 64 * 1024);
        return full
            ? TallyException.Transient($"The metastore '{FilePath}' cannot be written: the disk holding it is full. Nothing of this operation was recorded; free space, then run again.", e)
            : TallyException.Transient($"The metastore '{FilePath}' failed: {e.Message}", e);
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

    /// <summary>A command with named parameters (null becomes SQL NULL).</summary>
    internal static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    /// <summary>UTC to the millisecond, <c>2026-11-24T13:00:00.000Z</c>: sorts and compares as text.</summary>
    internal static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>A time as <see cref="FormatTime"/> wrote it (or any ISO-8601 text; no offset = UTC), in UTC.</summary>
    internal static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    internal static DateTimeOffset? ParseTimeOrNull(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : ParseTime(reader.GetString(ordinal));

    internal static string? StringOrNull(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}

using System.Globalization;
using Microsoft.Data.Sqlite;
using Tally.Metastore;

namespace Tally.Workflow;

/// <summary>
/// The workflow's tables in the metastore file (<c>&lt;state&gt;/metastore.db</c>, beside the catalog's): runs, their steps,
/// the hour leases, and the event outbox with its deliveries and attempts. Same connection settings as
/// <see cref="Catalog"/>: WAL, a busy timeout, one connection per operation, so an instance is safe from several threads
/// and processes. The tables are created with <c>CREATE TABLE IF NOT EXISTS</c>, so the catalog's schema version is untouched.
/// </summary>
internal sealed class StateDatabase
{
    private readonly string _connectionString;

    private StateDatabase(string path)
    {
        FilePath = path;
        _connectionString = MetastoreFile.ConnectionString(path);
    }

    public string FilePath { get; }

    /// <summary>Opens the metastore file in <paramref name="stateDirectory"/>, creating it and the workflow's tables when needed.</summary>
    /// <exception cref="TallyException">Transient when the file cannot be opened or stays locked.</exception>
    public static async Task<StateDatabase> OpenAsync(string stateDirectory, CancellationToken cancellationToken)
    {
        try
        {
            Directory.CreateDirectory(stateDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw TallyException.InvalidArgument($"Cannot create the state directory '{stateDirectory}': {e.Message}");
        }
        var db = new StateDatabase(Path.Combine(Path.GetFullPath(stateDirectory), Catalog.FileName));
        await db.WriteAsync(async (connection, transaction) =>
        {
            await Command(connection, transaction, Schema).ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        }, cancellationToken, walFirst: true).ConfigureAwait(false);
        return db;
    }

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS runs (
            run_id            TEXT PRIMARY KEY,
            target_hour       TEXT NOT NULL,   -- 2026-11-24T13 (UTC)
            trigger           TEXT NOT NULL,   -- manual | schedule | catch-up | late-data | backfill
            input             TEXT NOT NULL,   -- the workflow input, {"target_datetime": ...}
            status            TEXT NOT NULL,   -- running | succeeded | failed | abandoned | cancelled
            holder            TEXT NOT NULL,   -- run id, pid and host of the process that ran it
            started_at        TEXT NOT NULL,
            ended_at          TEXT,
            failed_state      TEXT,
            error             TEXT,
            cause             TEXT,
            counters          TEXT,            -- JSON object
            outputs           TEXT,            -- JSON array
            input_fingerprint TEXT
        );
        CREATE INDEX IF NOT EXISTS runs_by_hour ON runs (target_hour, started_at);
        CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status);
        CREATE TABLE IF NOT EXISTS run_steps (
            run_id      TEXT NOT NULL REFERENCES runs (run_id),
            seq         INTEGER NOT NULL,
            state       TEXT NOT NULL,         -- ComputeTargetHour | AggregateHour | FormatFailure | PublishFailureEvent | ...
            attempt     INTEGER NOT NULL,
            started_at  TEXT NOT NULL,
            ended_at    TEXT,
            outcome     TEXT NOT NULL,         -- running | succeeded | failed | retrying
            error       TEXT,
            PRIMARY KEY (run_id, seq)
        );
        CREATE TABLE IF NOT EXISTS leases (
            target_hour  TEXT PRIMARY KEY,
            run_id       TEXT NOT NULL,
            holder       TEXT NOT NULL,
            pid          INTEGER NOT NULL,
            host         TEXT NOT NULL,
            acquired_at  TEXT NOT NULL,
            expires_at   TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS events (
            event_id     TEXT PRIMARY KEY,
            run_id       TEXT,
            detail_type  TEXT NOT NULL,
            created_at   TEXT NOT NULL,
            body         TEXT NOT NULL         -- the exact JSON delivered (and signed)
        );
        CREATE INDEX IF NOT EXISTS events_by_run ON events (run_id);
        CREATE TABLE IF NOT EXISTS deliveries (
            event_id         TEXT NOT NULL REFERENCES events (event_id),
            sink             TEXT NOT NULL,    -- webhook | file | log
            status           TEXT NOT NULL,    -- pending | delivered | expired
            attempts         INTEGER NOT NULL,
            next_attempt_at  TEXT NOT NULL,
            expires_at       TEXT NOT NULL,
            delivered_at     TEXT,
            last_error       TEXT,
            PRIMARY KEY (event_id, sink)
        );
        CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_attempt_at);
        CREATE TABLE IF NOT EXISTS delivery_attempts (
            event_id  TEXT NOT NULL,
            sink      TEXT NOT NULL,
            attempt   INTEGER NOT NULL,
            at        TEXT NOT NULL,
            outcome   TEXT NOT NULL,           -- delivered | failed
            error     TEXT,
            PRIMARY KEY (event_id, sink, attempt)
        );
        """;

    /// <summary>Runs <paramref name="work"/> in one write transaction (BEGIN IMMEDIATE: it holds the write lock from its start).</summary>
    public Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> work, CancellationToken cancellationToken) =>
        WriteAsync(work, cancellationToken, walFirst: false);

    private async Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> work, CancellationToken cancellationToken, bool walFirst)
    {
        try
        {
            await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            if (walFirst) await Command(connection, null, "PRAGMA journal_mode = WAL").ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var result = await work(connection, transaction).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return result;
        }
        catch (SqliteException e)
        {
            throw MetastoreFile.Failure(FilePath, e);
        }
    }

    /// <summary>Runs <paramref name="work"/> on a connection of its own, outside any explicit transaction.</summary>
    public async Task<T> ReadAsync<T>(Func<SqliteConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            return await work(connection).ConfigureAwait(false);
        }
        catch (SqliteException e)
        {
            throw MetastoreFile.Failure(FilePath, e);
        }
    }

    private Task<SqliteConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        MetastoreFile.OpenAsync(_connectionString, cancellationToken);

    public static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters) =>
        MetastoreFile.Command(connection, transaction, sql, parameters);

    /// <summary>UTC to the millisecond, <c>2026-11-24T13:00:00.000Z</c>: sorts and compares as text.</summary>
    public static string FormatTime(DateTimeOffset time) => MetastoreFile.FormatTime(time);

    public static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    public static DateTimeOffset? ParseTimeOrNull(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : ParseTime(reader.GetString(ordinal));

    public static string? StringOrNull(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}

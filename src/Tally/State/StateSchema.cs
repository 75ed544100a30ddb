namespace Tally.State;

/// <summary>
/// Every table of <c>metastore.db</c>, as numbered migrations: the file's <c>PRAGMA user_version</c> is the last one applied,
/// and <see cref="StateDatabase.OpenAsync(string, StateSettings, CancellationToken)"/> applies the rest, in order, in one transaction. A change to the schema is a new
/// migration at the end, never an edit of one that shipped: files written by earlier versions go through the same steps.
/// </summary>
internal static class StateSchema
{
    /// <summary>The migrations in order; the version of a file is the count applied.</summary>
    public static readonly IReadOnlyList<string> Migrations =
    [
        // 1: the catalog (databases, tables, partitions). Files of version 0 are new, or hold only the workflow's tables:
        // until version 2 existed, those were created unversioned by a second owner of the file.
        """
        CREATE TABLE databases (
            name        TEXT PRIMARY KEY,
            created_at  TEXT NOT NULL
        );
        CREATE TABLE tables (
            database_name   TEXT NOT NULL REFERENCES databases (name),
            name            TEXT NOT NULL,
            location        TEXT NOT NULL,  -- key prefix relative to the data root
            format          TEXT NOT NULL,  -- parquet | json
            columns         TEXT NOT NULL,  -- JSON [{"name": ..., "type": ...}]
            partition_keys  TEXT NOT NULL,  -- JSON [{"name": ..., "type": "string"}]
            updated_at      TEXT NOT NULL,
            PRIMARY KEY (database_name, name)
        );
        CREATE TABLE partitions (
            database_name     TEXT NOT NULL,
            table_name        TEXT NOT NULL,
            partition_values  TEXT NOT NULL,  -- JSON array of strings, in partition key order
            partition_hour    TEXT NOT NULL,  -- the UTC hour it belongs to, 2026-11-24T13
            location          TEXT NOT NULL,  -- folder key relative to the data root
            row_count         INTEGER,        -- null when unknown
            bytes             INTEGER NOT NULL,
            run_id            TEXT,
            input_fingerprint TEXT,
            written_at        TEXT NOT NULL,
            PRIMARY KEY (database_name, table_name, partition_values),
            FOREIGN KEY (database_name, table_name) REFERENCES tables (database_name, name) ON DELETE CASCADE
        );
        CREATE INDEX partitions_by_hour ON partitions (database_name, table_name, partition_hour);
        """,

        // 2: the workflow (runs, steps, leases) and the event outbox (events, deliveries, attempts). IF NOT EXISTS: a file of
        // version 1 or 0 may already hold them, created unversioned by earlier Tallies with these same definitions.
        """
        CREATE TABLE IF NOT EXISTS runs (
            run_id            TEXT PRIMARY KEY,
            target_hour       TEXT NOT NULL,   -- 2026-11-24T13 (UTC)
            trigger           TEXT NOT NULL,   -- RunTrigger's text
            input             TEXT NOT NULL,   -- the workflow input, {"target_datetime": ...}
            status            TEXT NOT NULL,   -- RunStatus's text
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
            state       TEXT NOT NULL,         -- the workflow's state names
            attempt     INTEGER NOT NULL,
            started_at  TEXT NOT NULL,
            ended_at    TEXT,
            outcome     TEXT NOT NULL,         -- StepOutcome's text
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
            status           TEXT NOT NULL,    -- DeliveryStatus's text
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
        """,
    ];

    /// <summary>The version a file has once every migration is applied.</summary>
    public static int Version => Migrations.Count;
}

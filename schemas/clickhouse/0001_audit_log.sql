-- The audit log: one row per audit entry; log order is (lsn, seq).
--
-- The hash chain covers `event` only (hash = SHA-256(prev_hash || event)). Every column an analyst
-- filters on is MATERIALIZED from `event`, and the row images (pk, before, after) are ALIASes of it,
-- so none can be edited apart from the hashed body: ALTER ... UPDATE refuses them
-- (CANNOT_UPDATE_COLUMN, NO_SUCH_COLUMN_IN_TABLE), and an edit of `event` recomputes them and breaks
-- its hash, which `walaudit verify` reports. `SELECT *` omits MATERIALIZED and ALIAS columns; name
-- them (or `SELECT *, op, table_name, ...`).
--
-- Insert cost: each MATERIALIZED column repeats the same JSONExtract(event, 'Tuple(...)') and takes
-- one element of it. ClickHouse computes an identical expression once per block, so an event is
-- parsed once, not once per column (one JSONExtract* per column parsed it 14 times). An ALIAS
-- holding the tuple would read better, but ALTER ... UPDATE event cannot resolve an ALIAS inside a
-- MATERIALIZED expression (Missing columns), so the edit would fail instead of recomputing.
-- (A missing member reads as '' or 0, as before; a number where text is expected, such as an
-- application's numeric actor.app.user, reads as its JSON text, where JSONExtractString gave ''.)
-- pk, before and after are ALIAS, computed when read: stored, they copied most of every event a
-- second time, which made each insert and merge write and hold about 30% more.
--
-- ReplacingMergeTree on (lsn, seq): a replayed insert of the same entry (crash, slot replay)
-- collapses into one row when parts merge. Until then both copies are visible; add FINAL (or
-- LIMIT 1 BY lsn, seq) to a query that must count each entry once.
--
-- Retention: a row whose rule set retention_days > 0 is deleted by a TTL merge that many days after
-- its commit; 0 keeps it forever. The TTL adds to the DateTime64 itself: toDateTime(commit_time)
-- + N days wraps past 2106 (32-bit DateTime), so a 100-year retention would purge at once.
CREATE TABLE IF NOT EXISTS {database}.audit_log
(
    id String COMMENT 'Entry id: commit LSN as 16 hex digits, a dash, then seq (00000016B374D848-0). Unique and stable.',
    lsn UInt64 COMMENT 'Commit LSN of the transaction as a number (Postgres prints it as hi/lo hex, e.g. 16/B374D848).',
    seq UInt32 COMMENT 'Position of the entry within its transaction, from 0. Log order is (lsn, seq).',
    event String COMMENT 'The change event, exactly as hashed: walaudit canonical JSON (schemas/canonical-encoding.md). Source of truth for every MATERIALIZED and ALIAS column.',
    prev_hash String COMMENT 'hash of the previous entry in log order; 64 zeros for the first entry of a log.',
    hash String COMMENT 'Hex SHA-256 of prev_hash (64 ASCII hex digits) followed by event (UTF-8).',
    retention_days UInt16 COMMENT 'Days the entry is kept after commit_time, from the matching audit rule; 0 keeps it forever. Not hashed.',
    critical Bool COMMENT 'True when the matching audit rule marks the table critical. Not hashed.',
    stored_at DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When walaudit stored the entry, UTC. Not hashed.',

    op LowCardinality(String) MATERIALIZED
        JSONExtract(event, 'Tuple(op String, schema String, `table` String, tx Tuple(xid UInt64, commitTime String), actor Tuple(app Tuple(user String, ip String), db Tuple(user String, ip String, applicationName String)), changed Array(String))').op
        COMMENT 'insert, update, delete, truncate; action (recorded by the application); schema (the table''s columns changed). From event.op.',
    schema_name LowCardinality(String) MATERIALIZED
        JSONExtract(event, 'Tuple(op String, schema String, `table` String, tx Tuple(xid UInt64, commitTime String), actor Tuple(app Tuple(user String, ip String), db Tuple(user String, ip String, applicationName String)), changed Array(String))').schema
        COMMENT 'Postgres schema of the table. From event.schema.',
    table_name LowCardinality(String) MATERIALIZED
        JSONExtract(event, 'Tuple(op String, schema String, `table` String, tx Tuple(xid UInt64, commitTime String), actor Tuple(app Tuple(user String, ip String), db Tuple(user String, ip String, applicationName String)), changed Array(String))').`table`
        COMMENT 'Postgres table name, without schema. From event.table.',
    xid UInt64 MATERIALIZED
        JSONExtract(event, 'Tuple(op String, schema String, `table` String, tx Tuple(xid UInt64, commitTime String), actor Tuple(app Tuple(user String, ip String), db Tuple(user String, ip String, applicationName String)), changed Array(String))').tx.xid
        COMMENT 'Postgres transaction id: entries with the same xid were committed together. From event.tx.xid.',
    commit_time DateTime64(6, 'UTC') MATERIALIZED
        parseDateTime64BestEffort(JSONExtract(event, 'Tuple(op String, schema String, `table` String, tx Tuple(xid UInt64, commitTime String), actor Tuple(app Tuple(user String, ip String), db Tuple(user String, ip String, applicationName String)), changed Array(String))').tx.commitTime, 6, 'UTC')
        COMMENT 'When the transaction committed in Postgres, UTC, microseconds. From event.tx.commitTime.',
    app_user String MATERIALIZED
        JSONExtract(event, 'Tuple(op String, schema String, `table` String, tx Tuple(xid UInt64, commitTime String), actor Tuple(app Tuple(user String, ip String), db Tuple(user String, ip String, applicationName String)), changed Array(String))').actor.app.user
        COMMENT 'End user the application named through withAuditContext; empty when it sent none. From event.actor.app.user.',
    db_user String MATERIALIZED
        JSONExtract(event, 'Tuple(op String, schema String, `table` String, tx Tuple(xid UInt64, commitTime String), actor Tuple(app Tuple(user String, ip String), db Tuple(user String, ip String, applicationName String)), changed Array(String))').actor.db.user
        COMMENT 'Postgres session_user that ran the statement; empty when unknown. From event.actor.db.user.',
    client_ip String MATERIALIZED
        if(JSONExtract(event, 'Tuple(op String, schema String, `table` String, tx Tuple(xid UInt64, commitTime String), actor Tuple(app Tuple(user String, ip String), db Tuple(user String, ip String, applicationName String)), changed Array(String))').actor.db.ip != '', JSONExtract(event, 'Tuple(op String, schema String, `table` String, tx Tuple(xid UInt64, commitTime String), actor Tuple(app Tuple(user String, ip String), db Tuple(user String, ip String, applicationName String)), changed Array(String))').actor.db.ip, JSONExtract(event, 'Tuple(op String, schema String, `table` String, tx Tuple(xid UInt64, commitTime String), actor Tuple(app Tuple(user String, ip String), db Tuple(user String, ip String, applicationName String)), changed Array(String))').actor.app.ip)
        COMMENT 'Address the Postgres connection came from (inet_client_addr()); when that is NULL (Unix socket), the ip the application sent; empty when neither. From event.actor.db.ip, else event.actor.app.ip.',
    application_name String MATERIALIZED
        JSONExtract(event, 'Tuple(op String, schema String, `table` String, tx Tuple(xid UInt64, commitTime String), actor Tuple(app Tuple(user String, ip String), db Tuple(user String, ip String, applicationName String)), changed Array(String))').actor.db.applicationName
        COMMENT 'Postgres application_name of the session (psql, the app''s pool name...). From event.actor.db.applicationName.',
    pk String ALIAS JSONExtractRaw(event, 'pk')
        COMMENT 'Primary key values as a JSON object of text forms (the whole row when the table has none); the JSON literal null when the entry is not about one row. From event.pk.',
    before String ALIAS JSONExtractRaw(event, 'before')
        COMMENT 'The full row before the change (update, delete) as a JSON object: column name to Postgres text form or null; the JSON literal null otherwise. From event.before.',
    after String ALIAS JSONExtractRaw(event, 'after')
        COMMENT 'The full row after the change (insert, update) as a JSON object: column name to Postgres text form or null; the JSON literal null otherwise. From event.after.',
    changed Array(String) MATERIALIZED
        JSONExtract(event, 'Tuple(op String, schema String, `table` String, tx Tuple(xid UInt64, commitTime String), actor Tuple(app Tuple(user String, ip String), db Tuple(user String, ip String, applicationName String)), changed Array(String))').changed
        COMMENT 'For updates, the columns whose value changed; for schema entries, the columns added, dropped or retyped. From event.changed.',

    -- commit_time and xid grow with lsn, so min/max per granule skips most of the table for
    -- "since" and "this transaction" queries.
    INDEX commit_time_minmax commit_time TYPE minmax GRANULARITY 1,
    INDEX xid_minmax xid TYPE minmax GRANULARITY 1
)
ENGINE = ReplacingMergeTree
ORDER BY (lsn, seq)
TTL commit_time + toIntervalDay(retention_days) DELETE WHERE retention_days > 0
-- An insert returning means the replication slot may advance and Postgres may drop that WAL: the
-- part must be on disk, not only in the page cache (a power loss would lose audit entries). On the
-- machines measured this cost under 3% of insert throughput (parts are per insert, not per row).
--
-- Memory: every column stream of a part being written (by an insert or a merge) holds a buffer of
-- max_compress_block_size (1 MiB by default) twice, compressed and to the file; 64 KiB took 40 to 60
-- MB off peak RSS while storing 1M events, with the same throughput and size on disk (LZ4's window
-- is 64 KiB anyway). A part under min_bytes_for_wide_part (uncompressed) is written compact, one
-- data file instead of two per column: a 10k-event insert (about 10.5 MB) is under 64 MiB, so it
-- has fewer files to write and fsync; merges make bigger parts wide, as analysts' reads want.
SETTINGS fsync_after_insert = 1, fsync_part_directory = 1, max_compress_block_size = 65536, min_bytes_for_wide_part = 67108864
COMMENT 'walaudit audit trail: every row change of the audited Postgres tables, hash-chained. One row per entry; see column comments.';

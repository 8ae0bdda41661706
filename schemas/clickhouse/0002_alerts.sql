-- Alerts for on-call engineers: bulk deletions and deletions on critical tables.
--
-- One row per version of an alert; rows are never deleted or updated. An alert is raised with
-- version 1; while it grows (the actor goes on deleting, or a big transaction arrives in several
-- batches) a new row with a higher version is written; an acknowledgement is one more row with
-- status 'acknowledged'. The current state of an alert is its row with the highest
-- (version, updated_at); it is acknowledged when any of its rows is:
--
--   SELECT id, argMax(alert, (version, updated_at)) AS latest,
--          countIf(status = 'acknowledged') > 0 AS acknowledged
--   FROM walaudit.alerts GROUP BY id ORDER BY max(raised_at) DESC
--
-- `alert` holds the whole alert as JSON (what the notifiers were sent); the other columns copy its
-- fields for SQL. Times are UTC. The audit entries an alert names are in audit_log:
-- `SELECT * FROM walaudit.audit_log WHERE xid IN (...)`, or `walaudit log --xid N`.
CREATE TABLE IF NOT EXISTS {database}.alerts
(
    id String COMMENT 'Alert id, 12 hex digits, stable for what raised it (a replay finds the same id). `walaudit alerts ack ID` takes it; PagerDuty''s dedup_key.',
    version UInt32 COMMENT 'Version of the alert: 1 when raised, +1 for each update (more rows counted) and for the acknowledgement.',
    kind LowCardinality(String) COMMENT 'bulk-delete: one actor deleted more than the threshold within the window. critical-table: a transaction deleted from a table marked critical.',
    status LowCardinality(String) COMMENT 'open, or acknowledged (on the acknowledgement row and any later one).',
    actor String COMMENT 'Who, as alerts group it: the application user when the application sent one, else the database user; unknown when neither.',
    app_user String COMMENT 'End user the application named (withAuditContext); empty when none.',
    db_user String COMMENT 'Postgres session_user of the deleting statement; empty when unknown.',
    client_ip String COMMENT 'Client address (inet_client_addr(), else the ip the application sent); empty when unknown.',
    application_name String COMMENT 'Postgres application_name of the deleting session.',
    tables Array(String) COMMENT 'Tables deleted from (schema.table), in the order first seen.',
    table_rows Array(UInt64) COMMENT 'Rows deleted from each of `tables` (same positions); a TRUNCATE counted as all rows adds 0 here and sets all_rows.',
    rows UInt64 COMMENT 'Rows deleted in total (TRUNCATEs not counted).',
    all_rows Bool COMMENT 'True when a TRUNCATE was counted: every row of a table went.',
    window_minutes UInt32 COMMENT 'bulk-delete: length of the sliding window, minutes; 0 for critical-table.',
    threshold UInt32 COMMENT 'bulk-delete: rows allowed within the window; 0 for critical-table.',
    window_start Nullable(DateTime64(6, 'UTC')) COMMENT 'bulk-delete: commit time of the first deletion counted; NULL for critical-table.',
    xid UInt64 COMMENT 'critical-table: the transaction id; 0 for bulk-delete (see xids).',
    xids Array(UInt64) COMMENT 'Transactions counted, the first 20 (`walaudit log --xid N`).',
    transactions UInt64 COMMENT 'Number of transactions counted.',
    first_commit_time DateTime64(6, 'UTC') COMMENT 'Commit time of the first deletion counted.',
    last_commit_time DateTime64(6, 'UTC') COMMENT 'Commit time of the last deletion counted.',
    first_entry_id String COMMENT 'audit_log.id of the first deletion counted.',
    last_entry_id String COMMENT 'audit_log.id of the last deletion counted.',
    raised_at DateTime64(3, 'UTC') COMMENT 'When walaudit raised the alert (wall clock).',
    updated_at DateTime64(3, 'UTC') COMMENT 'When this version was written (wall clock).',
    acknowledged_by String COMMENT 'Who acknowledged it (`walaudit alerts ack --by`); empty while open.',
    acknowledged_at Nullable(DateTime64(3, 'UTC')) COMMENT 'When it was acknowledged; NULL while open.',
    ack_note String COMMENT 'The acknowledgement''s note (`--note`); empty when none.',
    alert String COMMENT 'The whole alert as JSON, as the notifiers received it (includes keys: primary keys of up to 20 rows of a critical-table alert).'
)
ENGINE = MergeTree
ORDER BY (id, version, updated_at)
SETTINGS fsync_after_insert = 1, fsync_part_directory = 1
COMMENT 'walaudit alerts: one row per version, never deleted; see the comment of 0002_alerts.sql for the current state of each alert.';

-- The Postgres database this store's audit trail comes from. LSNs order the changes of one server
-- only, and the writer drops what is at or below the newest stored position as a replay: entries of
-- a second source would be lost or chained into the first one's trail. The first row is the owner;
-- walaudit refuses to write entries from any other source (STORE_OTHER_SOURCE).
CREATE TABLE IF NOT EXISTS {database}.source
(
    system_identifier String COMMENT 'The Postgres server''s system identifier (IDENTIFY_SYSTEM; fixed at initdb, kept by replicas and backups).',
    database String COMMENT 'Name of the audited database on that server.',
    recorded_at DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When walaudit first wrote to this store from that source, UTC.'
)
ENGINE = MergeTree
ORDER BY recorded_at
SETTINGS fsync_after_insert = 1
COMMENT 'walaudit: which Postgres database this audit trail belongs to. One row.';

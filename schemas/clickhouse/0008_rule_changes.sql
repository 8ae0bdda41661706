-- Audit rules changed at run time through the HTTP API (exclude, watch, retention per table).
--
-- Rows are never updated: each change is one row, and what is in effect now is the history
-- replayed oldest first (packages/core/src/rules/rule-overrides.ts, currentOverrides). Each
-- change is also an entry of the audit trail (a walaudit.action named rules.<action> whose
-- `change` is this id), hash-chained with everything else; this table is what a restart reads.
CREATE TABLE IF NOT EXISTS {database}.rule_changes
(
    id String COMMENT 'Change id, 16 hex digits; the change member of its walaudit.action entry.',
    action LowCardinality(String) COMMENT 'exclude, watch, undo-exclude, undo-watch, retention-set or retention-unset.',
    table_name String COMMENT 'The table it applies to, schema.table.',
    days Nullable(UInt16) COMMENT 'retention-set: days the table''s next entries are kept, 0 forever; NULL otherwise.',
    changed_at DateTime64(3, 'UTC') COMMENT 'When it was made (wall clock, UTC).',
    changed_by String COMMENT 'Who made it (the API principal).',
    role LowCardinality(String) COMMENT 'The principal''s role (manager).',
    entry_id String COMMENT 'The entry the table was named through, when it was; empty otherwise.'
)
ENGINE = MergeTree
ORDER BY (changed_at, id)
SETTINGS fsync_after_insert = 1, fsync_part_directory = 1
COMMENT 'walaudit audit rules changed at run time: one row per change; the current overrides are the history replayed.';

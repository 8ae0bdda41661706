-- Cascade links: why a row changed without anyone asking for it. One row per entry that Postgres
-- deleted through ON DELETE CASCADE, or updated through ON DELETE SET NULL, because a row it
-- pointed at was deleted in the same transaction. Written by the correlator after the entries
-- themselves are stored, in a table of its own: audit_log and its hash chain are untouched.
-- Deletes of a transaction with no foreign-key path between them have no row here; they stay
-- grouped by xid in audit_log.
--
-- `walaudit log --caused-by ID` reads the rows of one root (ORDER BY starts with root_entry_id)
-- and prints them as a tree through parent_entry_id. Join back to audit_log on id = entry_id for
-- the row images.
--
-- ReplacingMergeTree: a replay after a crash links the same entries again; copies collapse on
-- merge (add FINAL, or LIMIT 1 BY entry_id, to count each once before that).
CREATE TABLE IF NOT EXISTS {database}.cascade_links
(
    entry_id String COMMENT 'The caused entry (audit_log.id): a delete (kind cascade) or an update (kind set-null).',
    kind LowCardinality(String) COMMENT 'cascade: removed by ON DELETE CASCADE; set-null: foreign key set to NULL by ON DELETE SET NULL.',
    schema_name LowCardinality(String) COMMENT 'Schema of the caused entry''s table.',
    table_name LowCardinality(String) COMMENT 'Table of the caused entry.',
    entry_key String COMMENT 'The caused entry''s primary key (audit_log.pk) as a JSON object of text values.',
    xid UInt64 COMMENT 'Postgres transaction id (the whole cascade commits in one transaction).',
    lsn UInt64 COMMENT 'Commit LSN of the transaction as a number (as audit_log.lsn).',
    seq UInt32 COMMENT 'Position of the caused entry in its transaction (as audit_log.seq).',
    constraint_name String COMMENT 'The foreign key Postgres followed (pg_constraint.conname, on the caused entry''s table).',
    parent_entry_id String COMMENT 'The deleted row the foreign key pointed at (audit_log.id).',
    parent_schema LowCardinality(String) COMMENT 'Schema of the parent''s table.',
    parent_table LowCardinality(String) COMMENT 'Table of the parent.',
    parent_key String COMMENT 'The parent''s referenced columns and their text values, as a JSON object (a key of the parent).',
    root_entry_id String COMMENT 'The delete that started the chain (audit_log.id): the parent itself at depth 1.',
    root_schema LowCardinality(String) COMMENT 'Schema of the root''s table.',
    root_table LowCardinality(String) COMMENT 'Table of the root.',
    depth UInt16 COMMENT 'Steps from the root: 1 for a row the root''s deletion removed directly.',
    linked_at DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When walaudit stored the link, UTC.'
)
ENGINE = ReplacingMergeTree
ORDER BY (root_entry_id, entry_id)
SETTINGS fsync_after_insert = 1, fsync_part_directory = 1
COMMENT 'walaudit cascade links: each row removed (or nulled) by a foreign key, its parent and the root delete of the chain.';

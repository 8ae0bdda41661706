-- Distributed mode (Kafka): each partition of the <prefix>.changes topic is consumed by one writer
-- at a time, and writers run in parallel, so one chain per retention period across the whole log
-- would be appended to by several writers at once. Each partition therefore has its own chains:
-- a chain is named by (chain_partition, retention_days). Standalone mode has one stream, partition
-- 0, so every entry written before this column existed keeps its chain. See
-- schemas/canonical-encoding.md.
ALTER TABLE {database}.audit_log
    ADD COLUMN IF NOT EXISTS chain_partition UInt32 DEFAULT 0
    COMMENT 'Partition of the Kafka changes topic the entry came through (distributed mode); 0 in standalone mode. With retention_days it names the entry''s hash chain. Not hashed.'
    AFTER critical;

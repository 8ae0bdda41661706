-- Skip indexes for the analysts' queries (searches, record histories): each keeps, per granule of
-- 8192 rows, a small summary of one column, and a query whose condition that summary rules out
-- skips the granule without reading it. Log order (lsn, seq) stays the sorting key: the newest
-- page of a filter is read backwards from the end, commit time and xid by their minmax indexes.
--
-- pk_hash: a hash of the row's key (the hashed body's `pk`), stored (MATERIALIZED, like the other
-- filter columns: it cannot be edited apart from the body) and indexed by pk_bloom. A record
-- history asks for one key among millions: the bloom filter leaves the few granules holding its
-- versions, and within them the 8-byte column rules out the other rows before any body is parsed
-- (an index on the expression alone left ClickHouse parsing every body of those granules). A
-- hash, not the key text: 8 bytes per row whatever the key's width.

-- table_set, op_set: the tables and ops present in a granule. They skip granules without the
-- table or op asked for: most of the log for a quiet table or a rare op (truncate, action).
--
-- actor_bloom, client_ip_bloom, application_bloom: who and from where; an actor's entries are
-- few among all. The actor filter matches the application user or the database user: one index
-- on the pair as an array, asked with has([app_user, db_user], x) (two indexes cannot skip for an
-- OR of their columns).
--
-- An index or a MATERIALIZED column added to a table that holds rows covers only parts written
-- afterwards (older parts compute the column when read); MATERIALIZE builds them for the existing
-- parts in the background (a mutation; queries are right meanwhile, only slower).
ALTER TABLE {database}.audit_log ADD COLUMN IF NOT EXISTS pk_hash UInt64 MATERIALIZED cityHash64(JSONExtractRaw(event, 'pk'))
    COMMENT 'cityHash64 of the row''s key as the body holds it (pk): what a record history looks a row up by. From event.pk.'
    AFTER changed;
ALTER TABLE {database}.audit_log ADD INDEX IF NOT EXISTS pk_bloom pk_hash TYPE bloom_filter(0.01) GRANULARITY 1;
ALTER TABLE {database}.audit_log ADD INDEX IF NOT EXISTS table_set table_name TYPE set(256) GRANULARITY 1;
ALTER TABLE {database}.audit_log ADD INDEX IF NOT EXISTS op_set op TYPE set(8) GRANULARITY 1;
ALTER TABLE {database}.audit_log ADD INDEX IF NOT EXISTS actor_bloom [app_user, db_user] TYPE bloom_filter(0.01) GRANULARITY 1;
ALTER TABLE {database}.audit_log ADD INDEX IF NOT EXISTS client_ip_bloom client_ip TYPE bloom_filter(0.01) GRANULARITY 1;
ALTER TABLE {database}.audit_log ADD INDEX IF NOT EXISTS application_bloom application_name TYPE bloom_filter(0.01) GRANULARITY 1;
ALTER TABLE {database}.audit_log MATERIALIZE COLUMN pk_hash;
ALTER TABLE {database}.audit_log MATERIALIZE INDEX pk_bloom;
ALTER TABLE {database}.audit_log MATERIALIZE INDEX table_set;
ALTER TABLE {database}.audit_log MATERIALIZE INDEX op_set;
ALTER TABLE {database}.audit_log MATERIALIZE INDEX actor_bloom;
ALTER TABLE {database}.audit_log MATERIALIZE INDEX client_ip_bloom;
ALTER TABLE {database}.audit_log MATERIALIZE INDEX application_bloom;

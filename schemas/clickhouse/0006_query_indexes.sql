-- Skip indexes for the analysts' queries (searches, record histories): each keeps, per granule of
-- 8192 rows, a small summary of one column, and a query whose condition that summary rules out
-- skips the granule without reading it. Log order (lsn, seq) stays the sorting key: the newest
-- page of a filter is read backwards from the end, commit time and xid by their minmax indexes.
--
-- pk_hash: a hash of the row's key (the hashed body's `pk`). A record history asks for one key
-- among millions; the bloom filter leaves the few granules holding its versions. The query must
-- repeat the expression exactly (see packages/clickhouse/src/entry-filter-sql.ts). A hash, not the
-- key text: 8 bytes per row in the filter whatever the key's width.
--
-- table_set, op_set: the tables and ops present in a granule. They skip granules without the
-- table or op asked for: most of the log for a quiet table or a rare op (truncate, action).
--
-- actor_bloom, client_ip_bloom, application_bloom: who and from where; an actor's entries are
-- few among all. The actor filter matches the application user or the database user: one index
-- on the pair as an array, asked with has([app_user, db_user], x) (two indexes cannot skip for an
-- OR of their columns).
--
-- An index added to a table that holds rows covers only parts written afterwards; MATERIALIZE
-- INDEX builds it for the existing parts in the background (a mutation; queries are right
-- meanwhile, only slower). Materializing is cheap here: the columns are small, read back once.
ALTER TABLE {database}.audit_log ADD INDEX IF NOT EXISTS pk_hash cityHash64(JSONExtractRaw(event, 'pk')) TYPE bloom_filter(0.01) GRANULARITY 1;
ALTER TABLE {database}.audit_log ADD INDEX IF NOT EXISTS table_set table_name TYPE set(256) GRANULARITY 1;
ALTER TABLE {database}.audit_log ADD INDEX IF NOT EXISTS op_set op TYPE set(8) GRANULARITY 1;
ALTER TABLE {database}.audit_log ADD INDEX IF NOT EXISTS actor_bloom [app_user, db_user] TYPE bloom_filter(0.01) GRANULARITY 1;
ALTER TABLE {database}.audit_log ADD INDEX IF NOT EXISTS client_ip_bloom client_ip TYPE bloom_filter(0.01) GRANULARITY 1;
ALTER TABLE {database}.audit_log ADD INDEX IF NOT EXISTS application_bloom application_name TYPE bloom_filter(0.01) GRANULARITY 1;
ALTER TABLE {database}.audit_log MATERIALIZE INDEX pk_hash;
ALTER TABLE {database}.audit_log MATERIALIZE INDEX table_set;
ALTER TABLE {database}.audit_log MATERIALIZE INDEX op_set;
ALTER TABLE {database}.audit_log MATERIALIZE INDEX actor_bloom;
ALTER TABLE {database}.audit_log MATERIALIZE INDEX client_ip_bloom;
ALTER TABLE {database}.audit_log MATERIALIZE INDEX application_bloom;

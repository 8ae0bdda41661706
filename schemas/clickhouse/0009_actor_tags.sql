-- The statement's sqlcommenter tags and W3C trace context (event.actor.tags, .traceId, .spanId).
--
-- MATERIALIZED from `event`, like the other filter columns, so none can be edited apart from the
-- hashed body. Entries stored before these fields existed, and entries whose statement carried no
-- comment, have no such members: they read as an empty map and empty strings.
--
-- trace_bloom finds one request's entries among millions (`walaudit log --trace-id`, the API's
-- traceId filter); tag_values_bloom skips granules without the value a tag filter asks for (the
-- filter also compares the key). Tags are what the session claimed: any role that can run SQL
-- can write any comment (schemas/change-event.md, Trust).
ALTER TABLE {database}.audit_log ADD COLUMN IF NOT EXISTS tags Map(String, String) MATERIALIZED JSONExtract(event, 'actor', 'tags', 'Map(String, String)')
    COMMENT 'sqlcommenter tags of the statement (its final /*key=''value'',...*/ comment), URL-decoded; empty when it had none. From event.actor.tags.'
    AFTER pk_hash;
ALTER TABLE {database}.audit_log ADD COLUMN IF NOT EXISTS trace_id String MATERIALIZED JSONExtractString(event, 'actor', 'traceId')
    COMMENT 'W3C trace id (32 hex digits) from the statement''s traceparent tag; empty when none. From event.actor.traceId.'
    AFTER tags;
ALTER TABLE {database}.audit_log ADD COLUMN IF NOT EXISTS span_id String MATERIALIZED JSONExtractString(event, 'actor', 'spanId')
    COMMENT 'W3C parent span id (16 hex digits) from the same traceparent; empty when none. From event.actor.spanId.'
    AFTER trace_id;
ALTER TABLE {database}.audit_log ADD INDEX IF NOT EXISTS trace_bloom trace_id TYPE bloom_filter(0.01) GRANULARITY 1;
ALTER TABLE {database}.audit_log ADD INDEX IF NOT EXISTS tag_values_bloom mapValues(tags) TYPE bloom_filter(0.01) GRANULARITY 1;
ALTER TABLE {database}.audit_log MATERIALIZE INDEX trace_bloom;
ALTER TABLE {database}.audit_log MATERIALIZE INDEX tag_values_bloom;

import type { CheckedFilter, LogPositionKey, TableName } from '@walaudit/core';

/** SQL conditions on audit_log with their `{name:Type}` parameters; values never spliced in. */
export interface FilterSql {
  conditions: string[];
  params: Record<string, unknown>;
}


function tableCondition(table: TableName, index: string, params: Record<string, unknown>): string {
  params[`table_${index}`] = table.name;
  if (table.schema === undefined) return `table_name = {table_${index}:String}`;
  params[`schema_${index}`] = table.schema;
  return `(schema_name = {schema_${index}:String} AND table_name = {table_${index}:String})`;
}

/** The WHERE conditions of a checked filter (see checkEntryFilter in core). */
export function filterSql(filter: CheckedFilter): FilterSql {
  const conditions: string[] = [];
  const params: Record<string, unknown> = {};
  if (filter.tables.length > 0) {
    conditions.push(`(${filter.tables.map((table, i) => tableCondition(table, String(i), params)).join(' OR ')})`);
  }
  if (filter.ops.length > 0) {
    conditions.push('op IN {ops:Array(String)}');
    params.ops = filter.ops;
  }
  if (filter.actor !== undefined) {
    // One condition on the array the actor_bloom index holds: an OR of two columns skips nothing.
    conditions.push('has([app_user, db_user], {actor:String})');
    params.actor = filter.actor;
  }
  if (filter.clientIp !== undefined) {
    conditions.push('client_ip = {client_ip:String}');
    params.client_ip = filter.clientIp;
  }
  if (filter.application !== undefined) {
    conditions.push('application_name = {application:String}');
    params.application = filter.application;
  }
  if (filter.xid !== undefined) {
    conditions.push('xid = {xid:UInt64}');
    params.xid = String(filter.xid);
  }
  if (filter.from !== undefined) {
    conditions.push(`commit_time >= toDateTime64({from:String}, 6, 'UTC')`);
    params.from = chTime(filter.from);
  }
  if (filter.to !== undefined) {
    conditions.push(`commit_time < toDateTime64({to:String}, 6, 'UTC')`);
    params.to = chTime(filter.to);
  }
  if (filter.key !== undefined) {
    conditions.push(tableCondition(filter.key.table, 'key', params));
    // The stored hash (indexed, 0007_query_indexes.sql) finds the granules and the rows; the text
    // comparison rules out a collision. The key is wrapped in a document so that ClickHouse
    // writes it the same way as it reads event's.
    conditions.push(`pk_hash = cityHash64(JSONExtractRaw({key_doc:String}, 'pk'))`);
    conditions.push(`JSONExtractRaw(event, 'pk') = JSONExtractRaw({key_doc:String}, 'pk')`);
    params.key_doc = `{"pk":${filter.key.pkJson}}`;
  }
  if (filter.text !== undefined) {
    // First the raw body (cheap, and the text as JSON writes it), then the values themselves, so
    // that a column name or another member holding the text does not match.
    conditions.push('positionCaseInsensitiveUTF8(event, {text_json:String}) > 0');
    conditions.push(
      `arrayExists(v -> positionCaseInsensitiveUTF8(ifNull(v, ''), {text:String}) > 0,
         arrayConcat(mapValues(JSONExtract(event, 'before', 'Map(String, Nullable(String))')), mapValues(JSONExtract(event, 'after', 'Map(String, Nullable(String))'))))`,
    );
    params.text_json = filter.text.escaped;
    params.text = filter.text.plain;
  }
  if (filter.traceId !== undefined) {
    conditions.push('trace_id = {trace_id:String}');
    params.trace_id = filter.traceId;
  }
  filter.tags?.forEach((tag, i) => {
    // The value condition alone can skip granules (tag_values_bloom, 0009_actor_tags.sql).
    conditions.push(`has(mapValues(tags), {tag_value_${i}:String})`, `tags[{tag_key_${i}:String}] = {tag_value_${i}:String}`, `mapContains(tags, {tag_key_${i}:String})`);
    params[`tag_key_${i}`] = tag.key;
    params[`tag_value_${i}`] = tag.value;
  });
  return { conditions, params };
}

/** Entries before `position` in log order (a newest-first page after its cursor), as a range of the sorting key. */
export function beforePosition(position: LogPositionKey): FilterSql {
  return {
    conditions: ['lsn <= {cursor_lsn:UInt64}', '(lsn < {cursor_lsn:UInt64} OR seq < {cursor_seq:UInt32})'],
    params: { cursor_lsn: position.lsn.toString(), cursor_seq: position.seq },
  };
}

/** Entries after `position` in log order (an oldest-first page after its cursor). */
export function afterPosition(position: LogPositionKey): FilterSql {
  return {
    conditions: ['lsn >= {cursor_lsn:UInt64}', '(lsn > {cursor_lsn:UInt64} OR seq > {cursor_seq:UInt32})'],
    params: { cursor_lsn: position.lsn.toString(), cursor_seq: position.seq },
  };
}

export function whereClause(...parts: FilterSql[]): { where: string; params: Record<string, unknown> } {
  const conditions = parts.flatMap((part) => part.conditions);
  return { where: conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '', params: Object.assign({}, ...parts.map((part) => part.params)) };
}

/** `2026-03-01 10:00:00.000000` from the ISO form core's checks produce. */
export function chTime(iso: string): string {
  return iso.replace('T', ' ').replace('Z', '');
}

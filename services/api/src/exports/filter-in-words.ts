import type { EntryFilter } from '@walaudit/core';

const either = (values: readonly string[]): string => (values.length === 1 ? values[0]! : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`);

/**
 * The filter of an export as a sentence for the report's reader, who never saw the URL:
 * `every entry` alone, else each condition given, joined by `; `.
 */
export function filterInWords(filter: EntryFilter): string {
  const parts: string[] = [];
  if (filter.key) parts.push(`the row of ${filter.key.table} with key ${Object.entries(filter.key.pk).map(([column, value]) => `${column}=${value ?? 'NULL'}`).join(', ')}`);
  else if (filter.tables?.length) parts.push(`table ${either(filter.tables)}`);
  if (filter.ops?.length) parts.push(`operation ${either(filter.ops)}`);
  if (filter.actor) parts.push(`by ${filter.actor} (application or database user)`);
  if (filter.clientIp) parts.push(`from client address ${filter.clientIp}`);
  if (filter.application) parts.push(`through application ${filter.application}`);
  if (filter.xid !== undefined) parts.push(`in transaction ${filter.xid}`);
  if (filter.from && filter.to) parts.push(`committed from ${filter.from} up to (not including) ${filter.to}`);
  else if (filter.from) parts.push(`committed at or after ${filter.from}`);
  else if (filter.to) parts.push(`committed before ${filter.to}`);
  if (filter.text) parts.push(`with "${filter.text}" in a value before or after the change`);
  return parts.length === 0 ? 'every entry' : `entries ${parts.join('; ')}`;
}

import { canonicalJson } from './canonical-json.js';
import type { ChangeEvent, ColumnDef, RowImage } from './change-event.types.js';

/**
 * The bytes the hash chain covers: the canonical encoding of an entry's body
 * (schemas/canonical-encoding.md), written without a generic JSON walk because it runs once per
 * stored entry.
 */

/** The part of an entry the hash covers: the change event as stored, without chain or store fields. */
export function hashedBody(entry: ChangeEvent): ChangeEvent {
  const { id, op, schema, table, keyKind, pk, columns, before, after, changed, tx, actor, action, schemaChange } = entry;
  return { id, op, schema, table, keyKind, pk, columns, before, after, changed, tx, actor, action, schemaChange };
}

/**
 * Encodings of objects many events share by reference (a relation's column list, a transaction's
 * actor): a million-row DELETE encodes them once instead of a million times.
 */
const sharedEncodings = new WeakMap<object, string>();

function encodeShared(value: object): string {
  let encoded = sharedEncodings.get(value);
  if (encoded === undefined) {
    encoded = canonicalJson(value);
    sharedEncodings.set(value, encoded);
  }
  return encoded;
}

/** Column names in canonical order with their encoded member prefixes (`"name":`). */
interface RowLayout {
  names: string[];
  prefixes: string[];
}

const rowLayouts = new WeakMap<readonly ColumnDef[], RowLayout>();

function layoutOf(names: string[]): RowLayout {
  names.sort();
  return { names, prefixes: names.map((name, i) => `${i === 0 ? '' : ','}${JSON.stringify(name)}:`) };
}

/**
 * A row image whose members are exactly the event's columns (the usual case) reuses the sorted
 * layout of that column list; any other row (a key, a partial image) is sorted on its own.
 */
function encodeRow(row: RowImage | null, columns: readonly ColumnDef[]): string {
  if (row === null) return 'null';
  let layout = rowLayouts.get(columns);
  if (layout === undefined) {
    layout = layoutOf(columns.map((column) => column.name));
    rowLayouts.set(columns, layout);
  }
  const { names, prefixes } = layout;
  let matches = Object.keys(row).length === names.length;
  if (matches) {
    let out = '{';
    for (let i = 0; i < names.length; i++) {
      const value = row[names[i]!];
      if (value === undefined) {
        matches = false;
        break;
      }
      out += prefixes[i]! + (value === null ? 'null' : JSON.stringify(value));
    }
    if (matches) return `${out}}`;
  }
  const own = layoutOf(Object.keys(row));
  let out = '{';
  let first = true;
  for (const name of own.names) {
    const value = row[name];
    if (value === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(name)}:${value === null ? 'null' : JSON.stringify(value)}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * canonicalJson(hashedBody(entry)), written out member by member in sorted order because it runs
 * once per stored entry; hash-chain.test.ts checks both give the same bytes.
 */
export function encodeEntryBody(entry: ChangeEvent): string {
  const { tx } = entry;
  let out = '{';
  if (entry.action !== undefined) out += `"action":${canonicalJson(entry.action)},`;
  out += `"actor":${encodeShared(entry.actor)}`;
  out += `,"after":${encodeRow(entry.after, entry.columns)}`;
  out += `,"before":${encodeRow(entry.before, entry.columns)}`;
  out += `,"changed":${entry.changed.length === 0 ? '[]' : canonicalJson(entry.changed)}`;
  out += `,"columns":${encodeShared(entry.columns)}`;
  out += `,"id":${JSON.stringify(entry.id)}`;
  out += `,"keyKind":${JSON.stringify(entry.keyKind)}`;
  out += `,"op":${JSON.stringify(entry.op)}`;
  out += `,"pk":${encodeRow(entry.pk, entry.columns)}`;
  out += `,"schema":${JSON.stringify(entry.schema)}`;
  if (entry.schemaChange !== undefined) out += `,"schemaChange":${canonicalJson(entry.schemaChange)}`;
  out += `,"table":${JSON.stringify(entry.table)}`;
  out += `,"tx":{"commitTime":${JSON.stringify(tx.commitTime)},"lsn":${JSON.stringify(tx.lsn)},"seq":${tx.seq},"xid":${tx.xid}}`;
  return `${out}}`;
}

import type { AuditEntry, RowImage } from '../change-event.types.js';
import { keyText, qualifiedName, runNames } from '../cascade/foreign-key.types.js';
import { orderInLevels } from './restore-order.js';
import type {
  ColumnValue,
  ConflictKind,
  ConflictPolicy,
  DatabaseFacts,
  InsertStep,
  RestoreConflict,
  RestorePlan,
  RestoreRequest,
  RestoreSelection,
  TableFacts,
  UpdateStep,
} from './restore.types.js';

/** A candidate insert before ordering: its step, where it stands, and its fate so far. */
interface Candidate {
  step: InsertStep;
  entry: AuditEntry;
  facts: TableFacts;
  skipped: string | null;
  /** Skipped because its key is taken: the key exists, so rows pointing at it still find it. */
  keyTaken: boolean;
  /** A missing parent set some of its values to NULL: they differ from the deleted row's. */
  valuesChanged: boolean;
}

/**
 * Plans a restore from the audit entries and what the database holds now: which rows go back, in
 * which order (parents before children), with which values, and every conflict with what the
 * policy does about it. Pure: the restorer reads the facts and runs the plan in one transaction.
 */
export function planRestore(request: RestoreRequest, policy: ConflictPolicy, selection: RestoreSelection, facts: DatabaseFacts): RestorePlan {
  const conflicts: RestoreConflict[] = [];
  const reported = new Set<string>();
  const alreadyPresent: RestorePlan['alreadyPresent'] = [];
  let blocked = false;

  const conflict = (entry: AuditEntry, kind: ConflictKind, detail: string, allowed: RestoreConflict['resolution'], column?: string, onceKey?: string) => {
    const resolution = policy === 'fail' ? 'fail' : allowed;
    if (resolution === 'fail') blocked = true;
    if (onceKey && reported.has(onceKey)) return resolution;
    if (onceKey) reported.add(onceKey);
    conflicts.push({ kind, entryId: entry.id, schema: entry.schema, table: entry.table, key: entry.pk, column, detail, resolution });
    return resolution;
  };

  // 1. Each delete on its own: table, columns, key.
  const candidates: Candidate[] = [];
  const columnPlans = new Map<string, ColumnPlan>();
  const nameOf = runNames();
  for (const entry of selection.deletes) {
    const q = nameOf(entry.schema, entry.table);
    const table = facts.tables.get(q);
    if (!table || !table.exists) {
      conflict(entry, 'table-missing', `table ${q} no longer exists`, 'skipped');
      continue;
    }
    const before = entry.before ?? {};
    const { columns, unrestorable } = restorableColumns(q, entry, before, table, facts, conflict, columnPlans);
    const step: InsertStep = {
      entryId: entry.id, schema: entry.schema, table: entry.table, key: entry.pk, columns,
      overridingSystemValue: columnPlans.get(q)!.identityAlways,
      newKey: false, followsNewKey: [],
    };
    const candidate: Candidate = { step, entry, facts: table, skipped: null, keyTaken: false, valuesChanged: false };
    if (unrestorable) {
      candidate.skipped = unrestorable;
      conflict(entry, 'not-restorable', unrestorable, 'skipped');
    } else if (table.primaryKey.length > 0) {
      const current = facts.rows.get(q)?.get(keyText(before, table.primaryKey) ?? '');
      if (current && columns.every((c) => current[c.name] === c.value)) {
        alreadyPresent.push({ entryId: entry.id, schema: entry.schema, table: entry.table, key: entry.pk });
        continue;
      }
      if (current) {
        const canRekey = table.primaryKey.every((name) => table.columns.get(name)?.hasDefault);
        const allowed = policy === 'new-key' && canRekey ? 'new-key' : 'skipped';
        const detail = `a row with key ${describeKey(entry.pk)} exists again in ${q} with other values`;
        const resolution = conflict(entry, 'key-exists', policy === 'new-key' && !canRekey ? `${detail}; no new key: ${table.primaryKey.join(', ')} has no default` : detail, allowed);
        if (resolution === 'new-key') {
          step.newKey = true;
          step.columns = columns.filter((c) => !table.primaryKey.includes(c.name));
        } else {
          candidate.skipped = detail;
          candidate.keyTaken = true;
        }
      }
    }
    candidates.push(candidate);
  }

  // 2. Foreign keys: parents in the restore come first; missing parents by policy.
  // A row is found by its values as deleted (a new-key row too: its children point at its old key).
  const levels = orderInLevels(candidates.map((c) => ({ schema: c.step.schema, table: c.step.table, row: c.entry.before ?? {} })), facts.foreignKeys);
  for (const index of levels.order) {
    const candidate = candidates[index]!;
    if (candidate.skipped) continue;
    for (const edge of levels.edges[index] ?? []) {
      const { fk, parent } = edge;
      // The values to insert (a missing parent may have set some to NULL), the old key under them.
      // Ordering read the key from the values as deleted: the same unless a missing parent nulled some.
      const row = candidate.valuesChanged || candidate.step.newKey ? { ...candidate.entry.before, ...rowOf(candidate.step) } : null;
      const target = row ? keyText(row, fk.columns) : edge.target;
      if (target === null) continue;
      const parentCandidate = parent === undefined ? undefined : candidates[parent];
      if (parentCandidate && !parentCandidate.skipped) {
        if (parentCandidate.step.newKey) candidate.step.followsNewKey.push({ columns: fk.columns, refColumns: fk.refColumns, parentEntryId: parentCandidate.entry.id });
        continue;
      }
      if (parentCandidate?.keyTaken || facts.presentTargets.has(`${fk.name}\u0000${target}`)) continue;
      const nullable = fk.columns.every((name) => !candidate.facts.columns.get(name)?.notNull);
      const why = parentCandidate ? `its parent ${describeKey(parentCandidate.entry.pk)} in ${fk.refTable} is not restored (${parentCandidate.skipped})` : `no row of ${fk.refSchema}.${fk.refTable} has ${describePairs(fk.refColumns, fk.columns, row ?? candidate.entry.before ?? {})} and none is being restored`;
      const resolution = conflict(candidate.entry, 'missing-parent', `${fk.name}: ${why}`, nullable ? 'set-null' : 'skipped', fk.columns.join(', '));
      if (resolution === 'set-null') {
        candidate.valuesChanged = true;
        for (const column of candidate.step.columns) if (fk.columns.includes(column.name)) column.value = null;
      } else if (resolution === 'skipped') {
        candidate.skipped = `${fk.name}: ${why}`;
        break;
      }
    }
  }

  const ordered: InsertStep[][] = levels.levels.map((level) => level.map((i) => candidates[i]!).filter((c) => !c.skipped).map((c) => c.step)).filter((level) => level.length > 0);
  const skippedEntries = new Set(candidates.filter((c) => c.skipped).map((c) => c.entry.id));

  // 3. Updates: SET NULL undone after the parents are back; reverts.
  const updates: UpdateStep[] = [];
  for (const { entry, link } of selection.nullings) {
    if (skippedEntries.has(link.parentEntryId)) {
      conflict(entry, 'missing-parent', `${link.constraint}: its parent ${describeKey(link.parentKey)} is not restored`, 'skipped');
      continue;
    }
    const fk = facts.foreignKeys.find((k) => k.name === link.constraint && k.schema === entry.schema && k.table === entry.table);
    // The constraint may be gone since; the update's changed columns are the ones it nulled.
    const columns = fk ? fk.columns : entry.changed;
    const update = planUpdate(entry, columns, 'set-null', facts, conflict);
    if (update) updates.push(update);
  }
  for (const entry of selection.reverts) {
    const update = planUpdate(entry, entry.changed, 'revert', facts, conflict);
    if (update) updates.push(update);
  }

  return { request, policy, levels: ordered, updates, conflicts, alreadyPresent, blocked };
}

type ConflictFn = (entry: AuditEntry, kind: ConflictKind, detail: string, allowed: RestoreConflict['resolution'], column?: string, onceKey?: string) => RestoreConflict['resolution'];

/** What to do with each column of one table's entries: decided once per table and column list. */
interface ColumnPlan {
  source: AuditEntry['columns'];
  /** A GENERATED ALWAYS identity column is among the kept ones. */
  identityAlways: boolean;
  kept: { name: string; type: string; masked: boolean; notNullNoDefault: boolean }[];
  unrestorable: string | null;
}

function sameColumns(a: AuditEntry['columns'], b: AuditEntry['columns']): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.name !== b[i]!.name || a[i]!.type !== b[i]!.type) return false;
  return true;
}

/** The entry's columns that can go back: present now, same type, not masked, not generated. */
function restorableColumns(q: string, entry: AuditEntry, before: RowImage, table: TableFacts, facts: DatabaseFacts, conflict: ConflictFn, cache: Map<string, ColumnPlan>): { columns: ColumnValue[]; unrestorable: string | null } {
  let plan = cache.get(q);
  if (!plan || !sameColumns(plan.source, entry.columns)) {
    plan = planColumns(entry, table, facts, conflict);
    cache.set(q, plan);
  }
  let unrestorable = plan.unrestorable;
  const columns: ColumnValue[] = [];
  for (const column of plan.kept) {
    if (!(column.name in before)) continue;
    const value = before[column.name] ?? null;
    if (column.masked && value !== null) {
      conflict(entry, 'masked', `column ${column.name} was masked by an audit rule: its value was never stored, left out`, 'column-left-out', column.name, `${q}|${column.name}|masked`);
      if (column.notNullNoDefault) unrestorable ??= `column ${column.name} cannot be restored (masked) and is NOT NULL without a default`;
      continue;
    }
    columns.push({ name: column.name, type: column.type, value });
  }
  return { columns, unrestorable };
}

function planColumns(entry: AuditEntry, table: TableFacts, facts: DatabaseFacts, conflict: ConflictFn): ColumnPlan {
  const q = qualifiedName(entry.schema, entry.table);
  const kept: ColumnPlan['kept'] = [];
  let unrestorable: string | null = null;
  for (const column of entry.columns) {
    const current = table.columns.get(column.name);
    if (!current) {
      conflict(entry, 'column-missing', `column ${column.name} (${column.type}) no longer exists in ${q}: left out`, 'column-left-out', column.name, `${q}|${column.name}|column-missing`);
      continue;
    }
    if (current.generated) continue;
    if (current.type !== column.type) {
      conflict(entry, 'type-changed', `column ${column.name} was ${column.type}, is ${current.type} now: left out`, 'column-left-out', column.name, `${q}|${column.name}|type-changed`);
      if (current.notNull && !current.hasDefault) unrestorable ??= `column ${column.name} cannot be restored (type-changed) and is NOT NULL without a default`;
      continue;
    }
    kept.push({ name: column.name, type: column.type, masked: facts.maskedColumns.has(`${q}.${column.name}`), notNullNoDefault: current.notNull && !current.hasDefault });
  }
  for (const current of table.columns.values()) {
    if (current.notNull && !current.hasDefault && !current.generated && !kept.some((c) => c.name === current.name)) {
      unrestorable ??= `column ${current.name} is NOT NULL without a default and the entry has no value for it`;
    }
  }
  const identityAlways = kept.some((c) => table.columns.get(c.name)?.identityAlways === true);
  return { source: entry.columns, identityAlways, kept, unrestorable };
}

function planUpdate(entry: AuditEntry, columns: readonly string[], why: UpdateStep['why'], facts: DatabaseFacts, conflict: ConflictFn): UpdateStep | null {
  const q = qualifiedName(entry.schema, entry.table);
  const table = facts.tables.get(q);
  if (!table?.exists) {
    conflict(entry, 'table-missing', `table ${q} no longer exists`, 'skipped');
    return null;
  }
  if (table.primaryKey.length === 0) {
    conflict(entry, 'not-restorable', `${q} has no primary key: the row cannot be found again`, 'skipped');
    return null;
  }
  const after = entry.after ?? {};
  const before = entry.before ?? {};
  const typeOf = (name: string) => entry.columns.find((c) => c.name === name)?.type ?? table.columns.get(name)?.type ?? 'text';
  const current = facts.rows.get(q)?.get(keyText(after, table.primaryKey) ?? '');
  if (!current) {
    conflict(entry, 'row-missing', `the row ${describeKey(entry.pk)} is no longer in ${q}`, 'skipped');
    return null;
  }
  const set: ColumnValue[] = [];
  const expect: ColumnValue[] = [];
  for (const name of columns) {
    const now = table.columns.get(name);
    if (!now || now.type !== typeOf(name)) {
      conflict(entry, now ? 'type-changed' : 'column-missing', `column ${name} ${now ? `is ${now.type} now` : 'no longer exists'}: left out`, 'column-left-out', name);
      continue;
    }
    set.push({ name, type: now.type, value: before[name] ?? null });
    expect.push({ name, type: now.type, value: after[name] ?? null });
  }
  if (set.length === 0) return null;
  if (set.every((c) => current[c.name] === c.value)) return null;
  const changed = expect.filter((c) => current[c.name] !== c.value).map((c) => c.name);
  if (changed.length > 0) {
    conflict(entry, 'changed-since', `${changed.join(', ')} changed again since this entry: not overwritten`, 'skipped');
    return null;
  }
  const where = table.primaryKey.map((name) => ({ name, type: table.columns.get(name)!.type, value: after[name] ?? null }));
  return { entryId: entry.id, schema: entry.schema, table: entry.table, key: entry.pk, set, where, expect, why };
}

function rowOf(step: InsertStep): RowImage {
  const row: RowImage = {};
  for (const column of step.columns) row[column.name] = column.value;
  return row;
}

export function describeKey(key: RowImage | null): string {
  return key ? Object.entries(key).map(([name, value]) => `${name}=${value ?? 'NULL'}`).join(',') : '(no key)';
}

function describePairs(refColumns: readonly string[], columns: readonly string[], row: RowImage): string {
  return refColumns.map((name, i) => `${name}=${row[columns[i]!] ?? 'NULL'}`).join(',');
}


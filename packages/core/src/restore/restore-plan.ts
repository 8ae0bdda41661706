import type { AuditEntry, RowImage } from '../change-event.types.js';
import { keyText, qualifiedName } from '../cascade/foreign-key.types.js';
import { WalauditError } from '../errors.js';
import { orderInLevels } from './restore-order.js';
import { columnPlanOf, describeKey, planUpdate, restorableColumns, type ColumnPlan, type ConflictFn } from './restore-rows.js';
import type { ConflictPolicy, DatabaseFacts, InsertStep, RestoreConflict, RestorePlan, RestoreRequest, RestoreSelection, TableFacts, UpdateStep } from './restore.types.js';

export { describeKey } from './restore-rows.js';

/**
 * A candidate insert before ordering: its step, where it stands, and its fate so far. It is also
 * what orderInLevels reads (schema, table, row as deleted), so 100k rows make no second object each.
 */
interface Candidate {
  schema: string;
  table: string;
  row: RowImage;
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
  const planner = new RestorePlanner(request, policy, facts);
  planner.addDeletes(selection.deletes);
  return planner.finish(selection);
}

/**
 * planRestore in two parts, so a restore plans each page of deletes while the store reads the
 * next: addDeletes takes the deletes in selection order once the facts of their tables and the
 * current rows at their keys are in `facts`; finish needs every fact (foreign keys, targets
 * present, the rows of the updates).
 */
export class RestorePlanner {
  private readonly conflicts: RestoreConflict[] = [];
  private readonly reported = new Set<string>();
  private readonly alreadyPresent: RestorePlan['alreadyPresent'] = [];
  private blocked = false;
  private readonly candidates: Candidate[] = [];
  private readonly columnPlans = new Map<string, ColumnPlan>();
  private added = 0;

  constructor(
    private readonly request: RestoreRequest,
    private readonly policy: ConflictPolicy,
    private readonly facts: DatabaseFacts,
  ) {}

  private readonly conflict: ConflictFn = (entry, kind, detail, allowed, column, onceKey) => {
    const resolution = this.policy === 'fail' ? 'fail' : allowed;
    if (resolution === 'fail') this.blocked = true;
    if (onceKey && this.reported.has(onceKey)) return resolution;
    if (onceKey) this.reported.add(onceKey);
    this.conflicts.push({ kind, entryId: entry.id, schema: entry.schema, table: entry.table, key: entry.pk, column, detail, resolution });
    return resolution;
  };

  /** 1. Each delete on its own: table, columns, key. */
  addDeletes(entries: readonly AuditEntry[]): void {
    const { facts, policy, conflict, candidates, columnPlans } = this;
    this.added += entries.length;
    // Entries come in runs of one table: its name, facts and current rows are looked up once per run.
    let lastSchema: string | undefined;
    let lastTable: string | undefined;
    let q = '';
    let table: TableFacts | undefined;
    let currentRows: Map<string, RowImage> | undefined;
    for (const entry of entries) {
      if (entry.table !== lastTable || entry.schema !== lastSchema) {
        lastSchema = entry.schema;
        lastTable = entry.table;
        q = qualifiedName(entry.schema, entry.table);
        table = facts.tables.get(q);
        currentRows = facts.rows.get(q);
      }
      if (!table || !table.exists) {
        conflict(entry, 'table-missing', `table ${q} no longer exists`, 'skipped');
        continue;
      }
      const before = entry.before ?? {};
      const columnPlan = columnPlanOf(q, entry, table, facts, conflict, columnPlans);
      const { columns, values, unrestorable } = restorableColumns(q, entry, before, columnPlan, conflict);
      const step: InsertStep = {
        entryId: entry.id, schema: entry.schema, table: entry.table, key: entry.pk, columns, values,
        overridingSystemValue: columnPlan.identityAlways,
        newKey: false, followsNewKey: NO_FOLLOWS,
      };
      const candidate: Candidate = { schema: entry.schema, table: entry.table, row: before, step, entry, facts: table, skipped: null, keyTaken: false, valuesChanged: false };
      if (unrestorable) {
        candidate.skipped = unrestorable;
        conflict(entry, 'not-restorable', unrestorable, 'skipped');
      } else if (table.primaryKey.length > 0) {
        const current = currentRows?.get(keyText(before, table.primaryKey) ?? '');
        if (current && columns.every((c, i) => current[c.name] === values[i])) {
          this.alreadyPresent.push({ entryId: entry.id, schema: entry.schema, table: entry.table, key: entry.pk });
          continue;
        }
        if (current) {
          const { primaryKey, columns: now } = table;
          const canRekey = primaryKey.every((name) => now.get(name)?.hasDefault);
          const allowed = policy === 'new-key' && canRekey ? 'new-key' : 'skipped';
          const detail = `a row with key ${describeKey(entry.pk)} exists again in ${q} with other values`;
          const resolution = conflict(entry, 'key-exists', policy === 'new-key' && !canRekey ? `${detail}; no new key: ${primaryKey.join(', ')} has no default` : detail, allowed);
          if (resolution === 'new-key') {
            step.newKey = true;
            const kept = columns.map((c) => !primaryKey.includes(c.name));
            step.columns = columns.filter((_, i) => kept[i]);
            step.values = values.filter((_, i) => kept[i]);
          } else {
            candidate.skipped = detail;
            candidate.keyTaken = true;
          }
        }
      }
      candidates.push(candidate);
    }
  }

  /** 2. Order and missing parents, 3. updates; `selection` is the one whose deletes were added. */
  finish(selection: RestoreSelection): RestorePlan {
    if (this.added !== selection.deletes.length) {
      throw new WalauditError('INTERNAL', `restore plan: ${this.added} deletes planned, the selection has ${selection.deletes.length}`);
    }
    const { facts, conflict, candidates } = this;
    // 2. Foreign keys: parents in the restore come first; missing parents by policy.
    // A row is found by its values as deleted (a new-key row too: its children point at its old key).
    const levels = orderInLevels(candidates, facts.foreignKeys);
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
          if (parentCandidate.step.newKey) {
            if (candidate.step.followsNewKey === NO_FOLLOWS) candidate.step.followsNewKey = [];
            candidate.step.followsNewKey.push({ columns: fk.columns, refColumns: fk.refColumns, parentEntryId: parentCandidate.entry.id });
          }
          continue;
        }
        if (parentCandidate?.keyTaken || facts.presentTargets.has(`${fk.name}\u0000${target}`)) continue;
        const nullable = fk.columns.every((name) => !candidate.facts.columns.get(name)?.notNull);
        const why = parentCandidate ? `its parent ${describeKey(parentCandidate.entry.pk)} in ${fk.refTable} is not restored (${parentCandidate.skipped})` : `no row of ${fk.refSchema}.${fk.refTable} has ${describePairs(fk.refColumns, fk.columns, row ?? candidate.entry.before ?? {})} and none is being restored`;
        const resolution = conflict(candidate.entry, 'missing-parent', `${fk.name}: ${why}`, nullable ? 'set-null' : 'skipped', fk.columns.join(', '));
        if (resolution === 'set-null') {
          candidate.valuesChanged = true;
          const { step } = candidate;
          step.columns.forEach((column, i) => {
            if (fk.columns.includes(column.name)) step.values[i] = null;
          });
        } else if (resolution === 'skipped') {
          candidate.skipped = `${fk.name}: ${why}`;
          break;
        }
      }
    }

    const ordered: InsertStep[][] = [];
    for (const level of levels.levels) {
      const steps: InsertStep[] = [];
      for (const i of level) if (!candidates[i]!.skipped) steps.push(candidates[i]!.step);
      if (steps.length > 0) ordered.push(steps);
    }
    const skippedEntries = new Set<string>();
    for (const candidate of candidates) if (candidate.skipped) skippedEntries.add(candidate.entry.id);

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

    return { request: this.request, policy: this.policy, levels: ordered, updates, conflicts: this.conflicts, alreadyPresent: this.alreadyPresent, blocked: this.blocked };
  }
}

/** Shared by the steps that follow no new key (nearly all); replaced by a step's own list on its first push. */
const NO_FOLLOWS = Object.freeze([]) as unknown as InsertStep['followsNewKey'];

function rowOf(step: InsertStep): RowImage {
  const row: RowImage = {};
  step.columns.forEach((column, i) => {
    row[column.name] = step.values[i] ?? null;
  });
  return row;
}

function describePairs(refColumns: readonly string[], columns: readonly string[], row: RowImage): string {
  return refColumns.map((name, i) => `${name}=${row[columns[i]!] ?? 'NULL'}`).join(',');
}


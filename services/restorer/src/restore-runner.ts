import type pg from 'pg';
import {
  qualifiedName,
  RestorePlanner,
  RESTORE_ACTOR,
  WalauditError,
  type AppContext,
  type AuditRule,
  type CascadeLinkStore,
  type ConflictPolicy,
  type DatabaseFacts,
  type EntryReader,
  type InsertStep,
  type RestorePlan,
  type RestoreReport,
  type RestoreRequest,
  type RestoreSelection,
  type RowImage,
} from '@walaudit/core';
import { connectClient, emitAuditContext, loadForeignKeys, quoteIdent, quoteTable, readableIdent, toWalauditError } from '@walaudit/pg';
import { DatabaseFactsReader, OUTPUT_TEXT } from './restore-facts.js';
import { selectEntries } from './restore-selection.js';
import { batchInsertSql, insertSql, planSql, sameShape, updateSql } from './restore-sql.js';
import { copySteps } from './restore-copy.js';
import { buildReport } from './restore-report.js';

export interface RestoreDeps {
  entries: EntryReader;
  links: CascadeLinkStore;
  /** Postgres URL of the restore role (cascade.restoreUrl, else source.url). */
  restoreUrl: string;
  /** The audit rules: masked columns cannot be put back. */
  rules: readonly AuditRule[];
  batchRows: number;
  /** Opens the restore's connection; default a new pg.Client (unit tests hand in a scripted database). */
  connect?: (url: string, applicationName: string) => Promise<pg.Client>;
}

export interface RestoreOptions {
  policy: ConflictPolicy;
  dryRun: boolean;
  /** Who asked (recorded in the audit trail with the restore's inserts). */
  requestedBy: string;
  jobId?: string;
  onProgress?: (progress: RestoreProgress) => void;
}

export interface RestoreProgress {
  phase: 'reading' | 'planning' | 'writing' | 'done';
  done: number;
  total: number;
}

/** Most entry ids named in the restore's audit context message; the job report holds them all. */
const MAX_IDS_IN_CONTEXT = 1_000;

/**
 * One restore, in one Postgres transaction: read the entries (page by page meanwhile: the current
 * rows at their keys, and each entry's own part of the plan), finish the plan (order, missing
 * parents, updates), and write (parents first, batched) after the audit context naming the
 * restore. Nothing is written before the whole plan stands: a conflict under policy fail, a
 * missing privilege or any error rolls everything back.
 */
export async function runRestore(deps: RestoreDeps, request: RestoreRequest, options: RestoreOptions): Promise<RestoreReport> {
  const progress = (phase: RestoreProgress['phase'], done = 0, total = 0) => options.onProgress?.({ phase, done, total });
  progress('reading');
  // The connection and its transaction open while the entries are read, and each page of deletes
  // read is checked against Postgres (rows at their keys) while the store reads the next.
  const connecting = (deps.connect ?? connectClient)(deps.restoreUrl, 'walaudit-restore');
  connecting.catch(() => undefined);
  const opening = connecting.then(async (client) => {
    await client.query(options.dryRun ? 'BEGIN READ ONLY' : 'BEGIN');
    return client;
  });
  const factsReader = new DatabaseFactsReader(opening, deps.rules);
  // Each page is planned once checked, while the store reads the next.
  const planner = new RestorePlanner(request, options.policy, factsReader.facts);
  let selection: Awaited<ReturnType<typeof selectEntries>>;
  try {
    selection = await selectEntries(request, deps.entries, deps.links, (page) => factsReader.addDeletes(page, (checked) => planner.addDeletes(checked)));
  } catch (error) {
    await connecting.then((c) => c.end()).catch(() => undefined);
    throw error;
  }
  const client = await connecting;
  let committed = false;
  try {
    progress('planning');
    const foreignKeys = await loadForeignKeys(client, deps.restoreUrl);
    const facts = await factsReader.finish(selection, foreignKeys);
    const plan = planner.finish(selection);
    await checkPrivileges(client, plan, facts);
    if (options.dryRun) return { ...buildReport(plan, true, new Map()), sql: planSql(plan) };
    if (plan.blocked) return buildReport(plan, false, new Map());
    // The context message goes before the first insert, so the reader attributes them all to it.
    await emitAuditContext(client, restoreContext(request, options, selection));
    await client.query('SET CONSTRAINTS ALL DEFERRED');
    const newKeys = new Map<string, RowImage>();
    await execute(client, plan, facts, deps.batchRows, newKeys, progress);
    await client.query('COMMIT');
    committed = true;
    progress('done');
    return buildReport(plan, false, newKeys);
  } catch (error) {
    throw toWalauditError(error, { url: deps.restoreUrl, action: `restoring ${describeRequest(request)}` });
  } finally {
    // Ends a dry run's or a blocked plan's reads, and discards everything a failure left half done.
    if (!committed) await client.query('ROLLBACK').catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

/** Who restores what, for the audit trail (the job report holds every id). */
function restoreContext(request: RestoreRequest, options: RestoreOptions, selection: RestoreSelection): AppContext {
  const entries = [selection.deletes, selection.nullings.map((n) => n.entry), selection.reverts];
  const ids: string[] = [];
  for (const list of entries) for (let i = 0; i < list.length && ids.length < MAX_IDS_IN_CONTEXT; i++) ids.push(list[i]!.id);
  return {
    // Record histories tell a restore from an application's insert by this user (core's recordVersion).
    user: RESTORE_ACTOR,
    requestedBy: options.requestedBy,
    reason: `restore ${describeRequest(request)}`,
    restoreJob: options.jobId,
    restoredEntries: ids,
    restoredEntryCount: entries.reduce((n, list) => n + list.length, 0),
  };
}

export function describeRequest(request: RestoreRequest): string {
  switch (request.kind) {
    case 'entry':
      return `entry ${request.entryId}`;
    case 'cascade':
      return `cascade of ${request.entryId}`;
    case 'tx':
      return `transaction ${request.xid}`;
    case 'revert':
      return `revert of ${request.entryId}`;
  }
}

async function checkPrivileges(tx: pg.ClientBase, plan: RestorePlan, facts: DatabaseFacts): Promise<void> {
  const missing: string[] = [];
  const inserted = new Set(plan.levels.flatMap((level) => [...tablesOf(level)]));
  const updated = tablesOf(plan.updates);
  for (const q of inserted) if (!facts.tables.get(q)?.canInsert) missing.push(`INSERT ON ${q}`);
  for (const q of updated) if (!facts.tables.get(q)?.canUpdate) missing.push(`UPDATE ON ${q}`);
  if (missing.length === 0) return;
  const role = (await tx.query<{ role: string }>('SELECT current_user AS role')).rows[0]!.role;
  throw new WalauditError(
    'PG_PRIVILEGE',
    `the restore role ${readableIdent(role)} lacks ${missing.join(', ')}: nothing was restored. Grant it (${missing.map((m) => `GRANT ${m} TO ${readableIdent(role)}`).join('; ')}) or set cascade.restoreUrl to a role that has it`,
  );
}

/** The tables of many steps, mostly in runs of one table: a name is built once per run. */
function tablesOf(steps: readonly { schema: string; table: string }[]): Set<string> {
  const names = new Set<string>();
  let previous: { schema: string; table: string } | undefined;
  for (const step of steps) {
    if (previous && previous.table === step.table && previous.schema === step.schema) continue;
    names.add(qualifiedName(step.schema, step.table));
    previous = step;
  }
  return names;
}

/**
 * Tables COPY would write differently from INSERT: row-level security that applies to the restore
 * role (COPY FROM refuses the table) and rules ON INSERT (COPY ignores them).
 */
const INSERT_ONLY_SQL = `SELECT row_security_active($1::regclass) OR EXISTS (SELECT 1 FROM pg_rewrite WHERE ev_class = $1::regclass AND ev_type = '3') AS insert_only`;

async function execute(
  tx: pg.ClientBase,
  plan: RestorePlan,
  facts: DatabaseFacts,
  batchRows: number,
  newKeys: Map<string, RowImage>,
  progress: (phase: RestoreProgress['phase'], done: number, total: number) => void,
): Promise<void> {
  const total = plan.levels.reduce((n, level) => n + level.length, 0) + plan.updates.length;
  let done = 0;
  const needsInsert = new Map<string, boolean>();
  for (const level of plan.levels) {
    // A level holds few shapes, its rows mostly grouped by table: the last group is tried first.
    const batches: InsertStep[][] = [];
    let last: InsertStep[] | undefined;
    for (const step of level) {
      followNewKeys(step, newKeys);
      if (step.newKey) {
        const key = facts.tables.get(qualifiedName(step.schema, step.table))!.primaryKey;
        const sql = insertSql(step).replace(/;( --.*)?$/, ` RETURNING ${key.map(quoteIdent).join(', ')}`);
        newKeys.set(step.entryId, (await tx.query<RowImage>({ text: sql, types: OUTPUT_TEXT })).rows[0]!);
        progress('writing', ++done, total);
        continue;
      }
      let batch = last && sameShape(last[0]!, step) ? last : batches.find((b) => sameShape(b[0]!, step));
      if (!batch) batches.push((batch = []));
      batch.push(step);
      last = batch;
    }
    // A level's rows only reference earlier levels (or each other, in a cycle: one statement
    // each shape, checked at its end as before): each shape is one COPY.
    for (const batch of batches) {
      const sample = batch[0]!;
      const q = qualifiedName(sample.schema, sample.table);
      let insertOnly = needsInsert.get(q);
      if (insertOnly === undefined) {
        const result = await tx.query<{ insert_only: boolean }>(INSERT_ONLY_SQL, [quoteTable(sample.schema, sample.table)]);
        needsInsert.set(q, (insertOnly = result.rows[0]!.insert_only));
      }
      if (!insertOnly) {
        await copySteps(tx, batch, batchRows, (rows) => progress('writing', (done += rows), total));
        continue;
      }
      for (let start = 0; start < batch.length; start += batchRows) {
        const rows = batch.slice(start, start + batchRows);
        await tx.query(batchInsertSql(sample), sample.columns.map((_, i) => rows.map((step) => step.values[i] ?? null)));
        progress('writing', (done += rows.length), total);
      }
    }
  }
  for (const step of plan.updates) {
    const result = await tx.query(updateSql(step));
    if (result.rowCount === 0) throw new WalauditError('RESTORE_CONFLICT', `${qualifiedName(step.schema, step.table)} row of entry ${step.entryId} changed while the restore ran: nothing was restored, run it again`, { retriable: true });
    progress('writing', ++done, total);
  }
}

function followNewKeys(step: InsertStep, newKeys: Map<string, RowImage>): void {
  for (const follow of step.followsNewKey) {
    const parentKey = newKeys.get(follow.parentEntryId);
    if (!parentKey) continue;
    follow.columns.forEach((name, i) => {
      const value = parentKey[follow.refColumns[i]!];
      const index = step.columns.findIndex((c) => c.name === name);
      if (index >= 0 && value !== undefined) step.values[index] = value;
    });
  }
}

import type pg from 'pg';
import { describeError, WalauditError } from '@walaudit/core';
import { inspectDatabase, tablesWithoutPrimaryKey, type DatabaseInspection } from './inspect-database.js';
import { withClient } from './pg-connect.js';
import { toWalauditError } from './pg-errors.js';
import { planSetup, type SetupStep } from './setup-plan.js';
import { needsPartitionEvents, PARTITION_EVENTS_NEED_SUPERUSER } from './partition-events.js';
import { displayTable, readableIdent } from './sql-names.js';
import { slotLossOf, slotLostError } from './slot-health.js';
import { recordSlotGap, type SlotGap } from './slot-gap.js';
import { emptyRecord, readSetupRecord, recordSetup, writeSetupRecord, type IdentityChange } from './setup-record.js';

export interface SetupOptions {
  slot: string;
  publication: string;
  /** `schema.table` names; empty: every user table, and a FOR ALL TABLES publication. */
  tables: string[];
  /** Print the SQL that would run and change nothing. */
  dryRun: boolean;
  log: (line: string) => void;
  /** Drop a slot Postgres invalidated, create it anew and record the gap (`--recreate-lost-slot`). */
  recreateLostSlot?: boolean;
  /** Create the slot as a failover slot (Postgres 17+; `source.failoverSlot`). */
  failoverSlot?: boolean;
  /** Commit time of the last stored entry, for the gap entry (null: the store could not say). */
  lastAuditedAt?: string | null;
}

/** What a setup planned, and the gap entry it wrote when it recreated a lost slot. */
export interface SetupResult {
  steps: SetupStep[];
  gap: SlotGap | null;
}

/**
 * `walaudit setup`: checks the server can serve walaudit (fails before changing anything when it
 * cannot), then brings the database to the state planSetup describes. Each step runs in its own
 * short transaction, so ALTER TABLE's exclusive lock is held only for that table; a failure part way
 * leaves the finished steps in place and a rerun continues from there. Returns the steps it planned
 * (empty: nothing to do); the caller prints the summary.
 */
export async function runSetup(url: string, options: SetupOptions): Promise<SetupStep[]> {
  return (await runSetupWithResult(url, options)).steps;
}

export async function runSetupWithResult(url: string, options: SetupOptions): Promise<SetupResult> {
  return withClient(url, 'walaudit setup', async (client) => {
    const inspection = await inspect(client, url, options);
    preflight(inspection, options);
    const lostSlot = inspection.existing.slot && slotLossOf(inspection.existing.slot) ? inspection.existing.slot : null;
    const steps = planSetup({ ...inspection, slot: options.slot, publication: options.publication, recreateSlot: lostSlot !== null, failoverSlot: options.failoverSlot, canCreateEventTriggers: inspection.role.superuser });
    const existingSlot = inspection.existing.slot;
    if (options.failoverSlot && existingSlot && existingSlot.failover === false && !lostSlot) {
      options.log(`warning: replication slot ${options.slot} exists and is not a failover slot; source.failoverSlot applies to a new slot: to convert it, stop walaudit and run \`ALTER_REPLICATION_SLOT ${options.slot} (FAILOVER true)\` over a replication connection`);
    }
    if (!inspection.role.superuser && needsPartitionEvents(inspection.tables) && !inspection.existing.partitionEvents?.triggers.length) {
      options.log(`warning: ${PARTITION_EVENTS_NEED_SUPERUSER}`);
    }
    for (const table of tablesWithoutPrimaryKey(inspection)) {
      options.log(`warning: ${table} has no primary key: audited, keyed by the full row`);
    }
    if (options.dryRun) {
      for (const step of steps) options.log(`-- ${step.description}\n${step.sql};`);
      if (lostSlot) options.log(`-- record the gap in the audit trail (walaudit.action "gap", from LSN ${lostSlot.confirmedLsn ?? 'unknown'} to the new slot's start)`);
      return { steps, gap: null };
    }
    // Wait briefly for a busy table's lock rather than queueing every other session behind us.
    await client.query(`SET lock_timeout = '10s'`);
    for (const step of steps) {
      if (step.kind === 'slot') {
        // Creating a logical slot waits until every transaction that has written anywhere in the
        // cluster (other databases too) has ended: a lock timeout would cancel it on a busy server.
        await client.query('RESET lock_timeout');
        options.log(`creating replication slot ${options.slot}: waits for transactions already open on the server to end`);
      }
      try {
        await client.query(step.sql);
      } catch (error) {
        throw toWalauditError(error, { url, action: `running setup step "${step.description}"`, role: inspection.role.name });
      }
      options.log(step.done);
    }
    await recordInstance(client, inspection, options);
    if (!lostSlot) return { steps, gap: null };
    const gap = await recordGap(client, url, { slot: options.slot, lost: lostSlot, lastAuditedAt: options.lastAuditedAt ?? null, role: inspection.role.name });
    options.log(`recorded the gap in the audit trail: LSN ${gap.fromLsn ?? 'unknown'} to ${gap.toLsn ?? 'unknown'}, ${gap.from ?? 'time of the last stored entry unknown'} to ${gap.to} (an action entry "gap", stored once walaudit starts)`);
    return { steps, gap };
  });
}

async function inspect(client: pg.ClientBase, url: string, options: SetupOptions): Promise<DatabaseInspection> {
  try {
    return await inspectDatabase(client, options);
  } catch (error) {
    throw toWalauditError(error, { url, action: 'reading the catalog' });
  }
}

/**
 * Notes this instance, and the identities setup replaced, in the setup record teardown reads. A
 * role that may not comment on a schema another role created still gets its setup: teardown then
 * only keeps more than it must.
 */
async function recordInstance(client: pg.ClientBase, inspection: DatabaseInspection, options: SetupOptions): Promise<void> {
  const changes: IdentityChange[] = inspection.tables
    .filter((t) => t.replicaIdentity !== 'full')
    .map((t) => ({ schema: t.schema, table: t.table, was: t.replicaIdentity as IdentityChange['was'], ...(t.identityIndex ? { index: t.identityIndex } : {}) }));
  try {
    const record = (await readSetupRecord(client)) ?? emptyRecord();
    const next = recordSetup(record, { slot: options.slot, publication: options.publication }, changes);
    if (JSON.stringify(next) !== JSON.stringify(record)) await writeSetupRecord(client, next);
  } catch (error) {
    options.log(`warning: could not note this instance in the comment of schema walaudit (${describeError(error)}): teardown will keep what it cannot tell is unused`);
  }
}

async function recordGap(client: pg.ClientBase, url: string, input: Parameters<typeof recordSlotGap>[1]): Promise<SlotGap> {
  try {
    return await recordSlotGap(client, input);
  } catch (error) {
    const lost = `LSN ${input.lost.confirmedLsn ?? 'unknown'} to the new slot's start`;
    throw toWalauditError(error, { url, action: `recording the gap (${lost}) after recreating the slot: note it by hand, the slot is already new` });
  }
}

/** Every check that can fail without changing anything, so a refused setup leaves no half state. */
function preflight(inspection: DatabaseInspection, options: SetupOptions): void {
  const { role, existing } = inspection;
  if (inspection.walLevel !== 'logical') {
    throw new WalauditError('PG_WAL_LEVEL', `wal_level is ${inspection.walLevel}; logical decoding needs it: set wal_level = logical in postgresql.conf (ALTER SYSTEM SET wal_level = logical) and restart Postgres`);
  }
  if (!role.superuser && !role.replication) {
    throw new WalauditError('PG_NO_REPLICATION', `the role ${role.name} may not use replication slots: run \`ALTER ROLE ${readableIdent(role.name)} REPLICATION\` as a superuser, or run setup as a superuser`);
  }
  const slot = existing.slot;
  if (slot && (slot.slotType !== 'logical' || slot.plugin !== 'pgoutput' || slot.database !== inspection.database)) {
    throw new WalauditError('PG_SLOT_IN_USE', `replication slot ${options.slot} already exists as a ${slot.slotType} slot (plugin ${slot.plugin ?? 'none'}, database ${slot.database ?? 'none'}): walaudit needs a pgoutput slot on ${inspection.database}; choose another source.slot, or drop that slot`);
  }
  if (slot && !options.recreateLostSlot) {
    const loss = slotLossOf(slot);
    if (loss) throw slotLostError(options.slot, loss);
  }
  if (options.failoverSlot && inspection.serverVersionNum < 170000) {
    throw new WalauditError('CONFIG_INVALID', `source.failoverSlot needs Postgres 17 or newer (failover slots); ${inspection.database} runs ${inspection.serverVersion}: turn the option off, or upgrade`);
  }
  if (inspection.allTables && !existing.publicationExists && !role.superuser) {
    throw new WalauditError('PG_PRIVILEGE', `CREATE PUBLICATION ... FOR ALL TABLES needs a superuser and ${role.name} is not one: list the tables in source.tables, or run setup as a superuser`);
  }
  const needsOwner = inspection.tables.filter((t) => !t.owned && (!t.hasContextTrigger || t.replicaIdentity !== 'full'));
  if (needsOwner.length > 0 && !role.superuser) {
    const names = needsOwner.map((t) => displayTable(t.schema, t.table)).join(', ');
    throw new WalauditError('PG_PRIVILEGE', `${role.name} does not own ${names}: adding the context trigger and REPLICA IDENTITY FULL needs the owner or a superuser`);
  }
}

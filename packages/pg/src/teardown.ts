import type pg from 'pg';
import { WalauditError } from '@walaudit/core';
import { withClient } from './pg-connect.js';
import { toWalauditError } from './pg-errors.js';
import { CONTEXT_FUNCTION, CONTEXT_TRIGGER, WALAUDIT_SCHEMA } from './setup-plan.js';
import { describeIdentity, emptyRecord, readSetupRecord, resetIdentitySql, writeSetupRecord, type SetupRecord } from './setup-record.js';
import { displayTable, quoteIdent, quoteTable } from './sql-names.js';
import { remainingUse, type RemainingUse } from './teardown-usage.js';
import { dropPartitionEvents } from './partition-events.js';

export interface TeardownOptions {
  slot: string;
  publication: string;
  log: (line: string) => void;
  /**
   * Give tables the REPLICA IDENTITY they had before setup set FULL (as the setup record says),
   * where no remaining instance publishes them. @defaultValue false
   */
  resetReplicaIdentity?: boolean;
}

type Note = (line: string) => void;

/**
 * `walaudit teardown`: removes what setup created for one instance, slot first so Postgres stops
 * keeping WAL for it. The schema, the context function and the triggers are shared by every
 * instance in the database: each is removed only when no remaining instance uses it, and what stays
 * is printed with the reason. Idempotent: what is already gone is skipped. Returns what it removed
 * (or reset).
 */
export async function runTeardown(url: string, options: TeardownOptions): Promise<string[]> {
  return withClient(url, 'walaudit teardown', async (client) => {
    const removed: string[] = [];
    const note: Note = (line) => {
      removed.push(line);
      options.log(line);
    };
    try {
      await dropSlot(client, options, note);
      const stored = await readSetupRecord(client);
      const record = stored ?? emptyRecord();
      const publicationDropped = await dropPublication(client, record, options, note);
      const use = await remainingUse(client, record, { slot: options.slot, publication: publicationDropped ? options.publication : null });
      const left = await handleIdentities(client, record, use, options, note);
      const triggersLeft = await dropTriggers(client, use, note, options.log);
      const next: SetupRecord = { instances: record.instances.filter((i) => i.slot !== options.slot), replicaIdentity: left };
      const needed = triggersLeft > 0 || use.instances.length > 0;
      if (needed) {
        const why = triggersLeft > 0 ? `${triggersLeft} trigger(s) still use it` : `the walaudit instance on slot ${use.instances[0]!.slot} still uses it`;
        options.log(`kept function ${CONTEXT_FUNCTION} and schema ${WALAUDIT_SCHEMA}: ${why}`);
        if (stored && JSON.stringify(next) !== JSON.stringify(record)) await writeSetupRecord(client, next);
      } else {
        for (const change of left) {
          options.log(`  to reset ${displayTable(change.schema, change.table)} later (the record goes with schema ${WALAUDIT_SCHEMA}): ${resetIdentitySql(change)};`);
        }
        await dropPartitionEvents(client, note, options.log);
        await dropFunctionAndSchema(client, note, options.log);
      }
    } catch (error) {
      throw toWalauditError(error, { url, action: 'tearing down' });
    }
    if (removed.length === 0) options.log('nothing to remove: walaudit is not set up here');
    return removed;
  });
}

async function dropSlot(client: pg.ClientBase, options: TeardownOptions, note: Note): Promise<void> {
  const { rows } = await client.query<{ active_pid: number | null; database: string | null; here: boolean }>(
    `SELECT active_pid, database, database = current_database() AS here FROM pg_replication_slots WHERE slot_name = $1`,
    [options.slot],
  );
  const slot = rows[0];
  if (!slot) return;
  if (!slot.here) {
    // Slots are cluster-wide: one of another database's walaudit is not ours to drop.
    options.log(`kept replication slot ${options.slot}: it belongs to database ${slot.database ?? '(none)'}`);
    return;
  }
  if (slot.active_pid !== null) {
    throw new WalauditError('PG_SLOT_IN_USE', `replication slot ${options.slot} is in use by backend PID ${slot.active_pid}: stop walaudit (or the other consumer) first, then run teardown again`);
  }
  await client.query(`SELECT pg_drop_replication_slot($1)`, [options.slot]);
  note(`dropped replication slot ${options.slot}`);
}

/** Drops the publication unless another recorded instance (another slot) reads through it. Returns whether it is gone. */
async function dropPublication(client: pg.ClientBase, record: SetupRecord, options: TeardownOptions, note: Note): Promise<boolean> {
  const publication = await client.query(`SELECT 1 FROM pg_publication WHERE pubname = $1`, [options.publication]);
  if (!publication.rowCount) return true;
  const slots = await client.query<{ slot_name: string }>(`SELECT slot_name FROM pg_replication_slots WHERE database = current_database()`);
  const live = new Set(slots.rows.map((r) => r.slot_name));
  const sharer = record.instances.find((i) => i.publication === options.publication && i.slot !== options.slot && live.has(i.slot));
  if (sharer) {
    options.log(`kept publication ${options.publication}: the walaudit instance on slot ${sharer.slot} reads through it`);
    return false;
  }
  await client.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(options.publication)}`);
  note(`dropped publication ${options.publication}`);
  return true;
}

/**
 * Lists the identities setup replaced and resets them on request where nothing that remains
 * publishes the table (another instance needs FULL for whole before-images). Returns the changes
 * still in place, for the record.
 */
async function handleIdentities(client: pg.ClientBase, record: SetupRecord, use: RemainingUse, options: TeardownOptions, note: Note): Promise<SetupRecord['replicaIdentity']> {
  const left: SetupRecord['replicaIdentity'] = [];
  for (const change of record.replicaIdentity) {
    const name = displayTable(change.schema, change.table);
    const exists = await client.query<{ full: boolean }>(`SELECT relreplident = 'f' AS full FROM pg_class WHERE oid = to_regclass($1)`, [name]);
    if (!exists.rows[0]?.full) continue; // dropped, or changed since by someone else: not ours to touch
    const before = `REPLICA IDENTITY FULL on ${name} (${describeIdentity(change)} before walaudit setup)`;
    const user = use.published.get(name);
    if (user) {
      options.log(`kept ${before}: still published by ${user}`);
      left.push(change);
    } else if (options.resetReplicaIdentity) {
      await client.query(resetIdentitySql(change));
      note(`reset REPLICA IDENTITY of ${name} to ${describeIdentity(change)}`);
    } else {
      options.log(`kept ${before}: pass --reset-replica-identity to reset it`);
      left.push(change);
    }
  }
  return left;
}

/** Drops the context trigger of every table no remaining publication publishes. Returns how many stay. */
async function dropTriggers(client: pg.ClientBase, use: RemainingUse, note: Note, log: (line: string) => void): Promise<number> {
  const { rows } = await client.query<{ schema: string; table: string }>(
    `SELECT n.nspname AS schema, c.relname AS table
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE t.tgname = $1 AND NOT t.tgisinternal
      ORDER BY 1, 2`,
    [CONTEXT_TRIGGER],
  );
  let kept = 0;
  for (const { schema, table } of rows) {
    const name = displayTable(schema, table);
    const user = use.published.get(name);
    if (user) {
      kept++;
      log(`kept trigger ${CONTEXT_TRIGGER} on ${name}: still published by ${user}`);
      continue;
    }
    await client.query(`DROP TRIGGER IF EXISTS ${CONTEXT_TRIGGER} ON ${quoteTable(schema, table)}`);
    note(`removed trigger ${CONTEXT_TRIGGER} from ${name}`);
  }
  return kept;
}

async function dropFunctionAndSchema(client: pg.ClientBase, note: Note, log: (line: string) => void): Promise<void> {
  const fn = await client.query(`SELECT to_regprocedure($1) IS NOT NULL AS present`, [CONTEXT_FUNCTION]).catch(() => ({ rows: [{ present: false }] }));
  if (fn.rows[0]?.present) {
    await client.query(`DROP FUNCTION IF EXISTS ${CONTEXT_FUNCTION}`);
    note(`dropped function ${CONTEXT_FUNCTION}`);
  }
  const { rows } = await client.query<{ objects: number }>(
    `SELECT count(d.objid)::int AS objects FROM pg_namespace n LEFT JOIN pg_depend d
        ON d.refclassid = 'pg_namespace'::regclass AND d.refobjid = n.oid AND d.deptype = 'n'
      WHERE n.nspname = $1 GROUP BY n.oid`,
    [WALAUDIT_SCHEMA],
  );
  if (!rows[0]) return;
  if (rows[0].objects > 0) {
    log(`kept schema ${WALAUDIT_SCHEMA}: it holds ${rows[0].objects} other object(s)`);
    return;
  }
  await client.query(`DROP SCHEMA IF EXISTS ${WALAUDIT_SCHEMA}`);
  note(`dropped schema ${WALAUDIT_SCHEMA}`);
}

import type pg from 'pg';
import { WalauditError } from '@walaudit/core';
import { withClient } from './pg-connect.js';
import { toWalauditError } from './pg-errors.js';
import { CONTEXT_FUNCTION, CONTEXT_TRIGGER, WALAUDIT_SCHEMA } from './setup-plan.js';
import { displayTable, quoteIdent, quoteTable } from './sql-names.js';

export interface TeardownOptions {
  slot: string;
  publication: string;
  log: (line: string) => void;
}

/**
 * `walaudit teardown`: removes what setup created, slot first so Postgres stops keeping WAL for it.
 * Idempotent: what is already gone is skipped. Tables keep REPLICA IDENTITY FULL: setup does not
 * record what they had before, and FULL is harmless to other consumers. Returns what it removed.
 */
export async function runTeardown(url: string, options: TeardownOptions): Promise<string[]> {
  return withClient(url, 'walaudit teardown', async (client) => {
    const removed: string[] = [];
    const note = (line: string) => {
      removed.push(line);
      options.log(line);
    };
    try {
      await dropSlot(client, options, note);
      const publication = await client.query(`SELECT 1 FROM pg_publication WHERE pubname = $1`, [options.publication]);
      if (publication.rowCount) {
        await client.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(options.publication)}`);
        note(`dropped publication ${options.publication}`);
      }
      await dropTriggers(client, note);
      await dropFunctionAndSchema(client, note, options.log);
    } catch (error) {
      throw toWalauditError(error, { url, action: 'tearing down' });
    }
    if (removed.length === 0) options.log('nothing to remove: walaudit is not set up here');
    return removed;
  });
}

async function dropSlot(client: pg.ClientBase, options: TeardownOptions, note: (line: string) => void): Promise<void> {
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

async function dropTriggers(client: pg.ClientBase, note: (line: string) => void): Promise<void> {
  const { rows } = await client.query<{ schema: string; table: string }>(
    `SELECT n.nspname AS schema, c.relname AS table
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE t.tgname = $1 AND NOT t.tgisinternal
      ORDER BY 1, 2`,
    [CONTEXT_TRIGGER],
  );
  for (const { schema, table } of rows) {
    await client.query(`DROP TRIGGER IF EXISTS ${CONTEXT_TRIGGER} ON ${quoteTable(schema, table)}`);
    note(`removed trigger ${CONTEXT_TRIGGER} from ${displayTable(schema, table)}`);
  }
}

async function dropFunctionAndSchema(client: pg.ClientBase, note: (line: string) => void, log: (line: string) => void): Promise<void> {
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

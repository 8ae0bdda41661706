// The two workloads and the slot handling around them, on a plain pg connection.
import { runSetup } from '@walaudit/pg';

export const DELETE_TABLE = 'public.bench_delete';
export const TX_TABLE = 'public.bench_tx';

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** Drops the slots when they exist, terminating a walsender still attached to one first. */
export async function dropSlots(client, slots) {
  for (let attempt = 0; ; attempt++) {
    const { rows } = await client.query(
      'SELECT slot_name, active_pid FROM pg_replication_slots WHERE slot_name = ANY($1)', [slots]);
    if (rows.length === 0) return;
    for (const row of rows) {
      if (row.active_pid) await client.query('SELECT pg_terminate_backend($1)', [row.active_pid]);
    }
    try {
      for (const row of rows) await client.query('SELECT pg_drop_replication_slot($1)', [row.slot_name]);
      return;
    } catch (error) {
      if (attempt >= 50) throw error;
      await sleep(100);
    }
  }
}

/** walaudit's setup (publication, REPLICA IDENTITY FULL, context trigger, its slot), then the ceiling slot. */
export async function createSlots(url, client, { slot, publication, ceilingSlot, log }) {
  await runSetup(url, { slot, publication, tables: [], dryRun: false, log });
  await client.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [ceilingSlot]);
}

/** A fresh 5-column table holding `rows` rows (bigint pk, text, int, timestamptz, numeric). */
export async function prepareDeleteTable(client, rows) {
  await client.query(`DROP TABLE IF EXISTS ${DELETE_TABLE}`);
  await client.query(`CREATE TABLE ${DELETE_TABLE} (
    id bigint PRIMARY KEY, name text NOT NULL, qty int NOT NULL, created_at timestamptz NOT NULL, amount numeric(12,2) NOT NULL)`);
  await client.query(`INSERT INTO ${DELETE_TABLE}
    SELECT g, 'customer-' || g || '-' || md5(g::text), (g % 1000)::int,
           timestamptz '2026-01-01 00:00:00+00' + g * interval '1.5 second', ((g % 100000) / 100.0)::numeric(12,2)
      FROM generate_series(1, $1::bigint) AS g`, [rows]);
  await client.query(`ANALYZE ${DELETE_TABLE}`);
  await client.query('CHECKPOINT');
}

/** One DELETE of every row, one transaction. Returns { seconds, endLsn } (LSN after the commit). */
export async function runDelete(client) {
  const started = Date.now();
  const result = await client.query(`DELETE FROM ${DELETE_TABLE}`);
  const seconds = (Date.now() - started) / 1000;
  const endLsn = await flushedEnd(client);
  return { seconds, endLsn, rows: result.rowCount };
}

/** A fresh small table and a procedure that inserts n rows, one transaction each. */
export async function prepareTxTable(client) {
  await client.query(`DROP TABLE IF EXISTS ${TX_TABLE}`);
  await client.query(`CREATE TABLE ${TX_TABLE} (id bigserial PRIMARY KEY, n int NOT NULL, note text NOT NULL, at timestamptz NOT NULL DEFAULT now())`);
  await client.query(`CREATE OR REPLACE PROCEDURE public.bench_tx_insert(count int) LANGUAGE plpgsql AS $$
    BEGIN
      FOR i IN 1..count LOOP
        -- The last commit is synchronous: it flushes every asynchronous one before it, so the WAL
        -- position read afterwards covers all of them and decoding can reach them.
        IF i = count THEN PERFORM set_config('synchronous_commit', 'on', true); END IF;
        INSERT INTO ${TX_TABLE} (n, note) VALUES (i, 'tx-' || i);
        COMMIT;
      END LOOP;
    END $$`);
  await client.query('CHECKPOINT');
}

/** CALL the procedure with synchronous_commit off in this session. Returns { seconds, endLsn }. */
export async function runTx(client, count) {
  await client.query('SET synchronous_commit = off');
  const started = Date.now();
  await client.query('CALL public.bench_tx_insert($1)', [count]);
  const seconds = (Date.now() - started) / 1000;
  await client.query('RESET synchronous_commit');
  const endLsn = await flushedEnd(client);
  return { seconds, endLsn };
}

/**
 * The WAL write position right after the last commit, once flushed (logical decoding only reads
 * flushed WAL). pg_current_wal_lsn() is the end of the last record written, i.e. the commit's end
 * LSN when nothing else wrote meanwhile; pg_recvlogical --endpos stops at the commit message or at
 * the first keepalive at or past it.
 */
async function flushedEnd(client) {
  const { rows } = await client.query('SELECT pg_current_wal_lsn()::text AS lsn');
  const lsn = rows[0].lsn;
  for (let i = 0; i < 300; i++) {
    const flushed = await client.query('SELECT pg_current_wal_flush_lsn() >= $1::pg_lsn AS ok', [lsn]);
    if (flushed.rows[0].ok) return lsn;
    await sleep(20);
  }
  throw new Error(`WAL up to ${lsn} was not flushed within 6 s`);
}

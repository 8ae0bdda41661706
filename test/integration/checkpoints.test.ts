import { createHash } from 'node:crypto';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouseStore } from '@walaudit/clickhouse';
import { findFreePort, runSetup } from '@walaudit/pg';
import { createTestDatabase, query, uniqueName, type TestDatabase } from '../support/postgres.js';
import { runWalaudit, spawnWalaudit } from '../support/walaudit-process.js';
import { tempDir } from '../support/temp-dir.js';
import { checkConsistency, checkInclusion, checkNote, entryHash } from '../support/independent-verifier.js';

const ENTRIES = 13;

interface Row {
  id: string;
  lsn: string;
  seq: number;
  event: string;
  prev_hash: string;
  hash: string;
}

const sha256hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * A real pipeline on a throwaway Postgres signs checkpoints into a file; each tamper is then done
 * with SQL on a copy of the embedded store, as someone with rights on ClickHouse would, and
 * `verify --checkpoints` must name it.
 */
describe('signed checkpoints against a tampered store', () => {
  let db: TestDatabase;
  const slot = uniqueName('ckpt');
  const base = tempDir('checkpoints');
  const dataDir = join(base, 'data');
  const keyFile = join(base, 'keys', 'signing.key');
  const checkpointFile = join(base, 'checkpoints.jsonl');
  let verifierKey = '';
  let rows: Row[] = [];

  const env = (file = checkpointFile) => ({
    WALAUDIT_CHECKPOINTS_KEY_FILE: keyFile,
    WALAUDIT_CHECKPOINTS_FILE: file,
    WALAUDIT_CHECKPOINTS_INTERVAL_MS: '1000',
    WALAUDIT_CHECKPOINTS_EVERY_ENTRIES: '5',
  });

  /** A copy of the stopped store, tampered with by `tamper`; returns its data directory. */
  async function tampered(name: string, tamper: (store: ReturnType<typeof createClickHouseStore>, log: string) => Promise<void>): Promise<string> {
    const copy = join(tempDir(`checkpoints-${name}`), 'data');
    cpSync(dataDir, copy, { recursive: true });
    const store = createClickHouseStore({ dataDir: copy, database: 'walaudit' });
    try {
      await tamper(store, store.table('audit_log'));
    } finally {
      await store.close();
    }
    return copy;
  }

  const verify = async (dir: string) => runWalaudit(['verify', '--data-dir', dir, '--http-port', String(await findFreePort()), '--checkpoints', checkpointFile, '--key', verifierKey]);

  beforeAll(async () => {
    db = await createTestDatabase('checkpoints');
    await query(db.url, 'CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance int NOT NULL)');
    await runSetup(db.url, { slot, publication: slot, tables: [], dryRun: false, log: () => {} });

    const generated = await runWalaudit(['keys', 'generate', '--out', keyFile, '--name', 'audit.example.com/shop']);
    expect(generated.code, generated.stderr).toBe(0);
    verifierKey = generated.stdout.trim();
    expect((await import('node:fs')).statSync(keyFile).mode & 0o777).toBe(0o600);

    const port = await findFreePort();
    const start = spawnWalaudit(['start', '--source', db.url, '--data-dir', dataDir, '--http-port', String(port), '--slot', slot, '--publication', slot], env());
    await start.waitFor((status) => status.state === 'running');
    for (let i = 1; i <= ENTRIES; i++) await query(db.url, 'INSERT INTO accounts VALUES ($1, $2, $3)', [i, `owner-${i}`, i * 100]);
    await start.waitFor((status) => status.entriesStored >= ENTRIES);
    // The checkpoint after every 5 entries is written off the hot path; the metric shows its age.
    const deadline = Date.now() + 20_000;
    let metrics = '';
    while (Date.now() < deadline && !/walaudit_checkpoint_age_seconds \d/.test(metrics)) {
      metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(metrics).toMatch(/walaudit_checkpoint_age_seconds \d/);
    await start.stop('SIGTERM');

    const store = createClickHouseStore({ dataDir, database: 'walaudit' });
    try {
      rows = await store.select<Row>(`SELECT id, toString(lsn) AS lsn, seq, event, prev_hash, hash FROM ${store.table('audit_log')} ORDER BY lsn, seq`);
    } finally {
      await store.close();
    }
    expect(rows).toHaveLength(ENTRIES);
  }, 120_000);

  afterAll(async () => {
    await db?.drop();
  });

  it('writes signed checkpoints, the last one final, and an intact store matches them', async () => {
    const lines = readFileSync(checkpointFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { origin: string; size: number; note: string });
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.every((line) => line.origin === 'audit.example.com/shop/p0/r90')).toBe(true);
    const last = lines.at(-1)!;
    expect(last.size).toBe(ENTRIES);
    expect(last.note).toContain('\nfinal\n\n\u2014 audit.example.com/shop ');
    const result = await verify(dataDir);
    expect(result.stdout).toContain(`chain p0/r90: ${ENTRIES} entries stored; newest checkpoint`);
    expect(result.stdout).toContain('matches (root recomputed)');
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it('names an edited value (the chain check)', async () => {
    const dir = await tampered('edit', (store, log) => store.command(`ALTER TABLE ${log} UPDATE event = replace(event, 'owner-7', 'mallory') WHERE id = '${rows[6]!.id}' SETTINGS mutations_sync = 1`));
    const result = await verify(dir);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`hash chain BROKEN at entry ${rows[6]!.id}: altered`);
  });

  it('names a deleted middle entry', async () => {
    const dir = await tampered('delete', (store, log) => store.command(`ALTER TABLE ${log} DELETE WHERE id = '${rows[6]!.id}' SETTINGS mutations_sync = 1`));
    const result = await verify(dir);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`hash chain BROKEN at entry ${rows[7]!.id}: removed-or-inserted`);
  });

  it('names a forged entry with a correct hash, inserted in the middle or appended after walaudit stopped', async () => {
    const forge = (after: Row, seq: number) => {
      const id = `${after.id.split('-')[0]}-${seq}`;
      const event = after.event.replace(after.id, id).replace(/owner-\d+/, 'forged');
      return { id, lsn: after.lsn, seq, event, prev_hash: after.hash, hash: sha256hex(after.hash + event), retention_days: 90, critical: false, chain_partition: 0 };
    };
    const middle = await tampered('insert', (store) => store.insertRows('audit_log', [forge(rows[6]!, 1)]));
    const inserted = await verify(middle);
    expect(inserted.code).toBe(1);
    expect(inserted.stdout).toContain(`hash chain BROKEN at entry ${rows[7]!.id}: removed-or-inserted`);

    const appended = await tampered('append', (store) => store.insertRows('audit_log', [forge(rows.at(-1)!, 1)]));
    const result = await verify(appended);
    expect(result.stdout).toContain('hash chains intact');
    expect(result.stdout).toMatch(/appended-after-stop: chain p0\/r90: 1 entries from \S+-1 on were stored after the checkpoint of .* which walaudit signed as it stopped/);
    expect(result.code).toBe(1);
  });

  it('names a cut tail with the missing range', async () => {
    const dir = await tampered('tail', (store, log) => store.command(`ALTER TABLE ${log} DELETE WHERE (lsn, seq) > (${rows[1]!.lsn}, ${rows[1]!.seq}) SETTINGS mutations_sync = 1`));
    const result = await verify(dir);
    expect(result.stdout).toContain('hash chains intact: 2 entries verified');
    expect(result.stdout).toContain(`tail-truncated: chain p0/r90: the newest entries were removed (11 of ${ENTRIES} entries): the store ends at ${rows[1]!.id}`);
    expect(result.stdout).toContain(`missing: the entries after ${rows[1]!.id} through ${rows.at(-1)!.id}`);
    expect(result.code).toBe(1);
  });

  it('names a cut head well inside retention', async () => {
    const dir = await tampered('head', (store, log) => store.command(`ALTER TABLE ${log} DELETE WHERE (lsn, seq) <= (${rows[2]!.lsn}, ${rows[2]!.seq}) SETTINGS mutations_sync = 1`));
    const result = await verify(dir);
    expect(result.stdout).toContain('hash chains intact: 10 entries verified');
    expect(result.stdout).toContain(`head-truncated: chain p0/r90: the oldest entries were removed before their retention ran out (3 entries): the chain now starts at ${rows[3]!.id}`);
    expect(result.stdout).toContain(`missing: ${rows[0]!.id} up to the entry before ${rows[3]!.id}`);
    expect(result.code).toBe(1);
  });

  it('names a whole chain recomputed with fresh hashes after db_user was changed', async () => {
    const dir = await tampered('recompute', async (store, log) => {
      const all = await store.select<Record<string, unknown> & Row>(`SELECT * FROM ${log} ORDER BY lsn, seq`);
      let prev = '0'.repeat(64);
      const forged = all.map((row, index) => {
        let event = row.event;
        if (index === 4) {
          const user = (JSON.parse(event) as { actor: { db: { user: string } } }).actor.db.user;
          event = event.replace(`"user":"${user}"`, '"user":"somebody_else"');
          expect(event).not.toBe(row.event);
        }
        const hash = sha256hex(prev + event);
        const next = { ...row, event, prev_hash: prev, hash };
        prev = hash;
        return next;
      });
      await store.command(`TRUNCATE TABLE ${log}`);
      await store.insertRows('audit_log', forged);
    });
    const result = await verify(dir);
    expect(result.stdout).toContain(`hash chains intact: ${ENTRIES} entries verified`);
    expect(result.stdout).toMatch(new RegExp(`recomputed: chain p0/r90: entry ${rows.at(-1)!.id} has hash [0-9a-f]{64} in the store, the checkpoint of \\S+ \\(size ${ENTRIES}\\) signed ${rows.at(-1)!.hash}: the chain was rewritten`));
    expect(result.code).toBe(1);
  });

  it('rejects a checkpoint file whose lines were altered, and one signed by another key', async () => {
    const altered = join(tempDir('checkpoints-altered'), 'checkpoints.jsonl');
    const text = readFileSync(checkpointFile, 'utf8');
    const lines = text.trim().split('\n');
    const last = JSON.parse(lines.at(-1)!) as { note: string };
    last.note = last.note.replace(`\n${ENTRIES}\n`, `\n${ENTRIES - 2}\n`);
    (await import('node:fs')).writeFileSync(altered, [...lines.slice(0, -1), JSON.stringify(last)].join('\n') + '\n');
    const result = await runWalaudit(['verify', '--data-dir', dataDir, '--http-port', String(await findFreePort()), '--checkpoints', altered, '--key', verifierKey]);
    expect(result.stdout).toMatch(/FORGED line \d+: the signature of audit.example.com\/shop \(key id [0-9a-f]{8}\) does not verify/);
    expect(result.code).toBe(1);

    const other = (await runWalaudit(['keys', 'generate', '--print-secret', '--name', 'audit.example.com/shop'])).stdout.trim().split('\n')[1]!;
    const unknown = await runWalaudit(['verify', '--data-dir', dataDir, '--http-port', String(await findFreePort()), '--checkpoints', checkpointFile, '--key', other]);
    expect(unknown.stderr).toContain('CHECKPOINT_UNKNOWN_KEY');
    expect(unknown.code).toBe(2);
  });

  it('proves an entry and a consistency that walaudit verify-proof and an independent verifier both check offline', async () => {
    const common = ['--data-dir', dataDir, '--http-port', String(await findFreePort()), '--checkpoints', checkpointFile];
    const proved = await runWalaudit(['prove', rows[5]!.id, ...common]);
    expect(proved.code, proved.stderr).toBe(0);
    const proofFile = join(tempDir('checkpoints-proof'), 'proof.json');
    (await import('node:fs')).writeFileSync(proofFile, proved.stdout);
    const proof = JSON.parse(proved.stdout) as { entry: { id: string; prevHash: string; hash: string; event: string }; index: number; proof: string[]; checkpoint: string };
    expect(proof.index).toBe(5);

    const checked = await runWalaudit(['verify-proof', proofFile, '--key', verifierKey]);
    expect(checked.stdout).toMatch(new RegExp(`proof verified: entry ${rows[5]!.id} is entry 5 of the ${ENTRIES} of chain p0/r90`));
    expect(checked.code).toBe(0);

    // The independent verifier, from the documentation only.
    const [origin, size, root] = checkNote(proof.checkpoint, verifierKey);
    expect(origin).toBe('audit.example.com/shop/p0/r90');
    expect(entryHash(proof.entry.prevHash, proof.entry.event)).toBe(proof.entry.hash);
    expect(checkInclusion(proof.entry.hash, proof.index, Number(size), proof.proof, root!)).toBe(true);
    expect(checkInclusion(proof.entry.hash, proof.index + 1, Number(size), proof.proof, root!)).toBe(false);

    // From the oldest checkpoint of the file (its size depends on how the pipeline batched) to the newest.
    const consistency = await runWalaudit(['prove-consistency', '--chain', 'p0/r90', ...common]);
    expect(consistency.code, consistency.stderr).toBe(0);
    const between = JSON.parse(consistency.stdout) as { old: string; new: string; proof: string[] };
    const [, oldSize, oldRoot] = checkNote(between.old, verifierKey);
    const [, newSize, newRoot] = checkNote(between.new, verifierKey);
    expect(Number(oldSize)).toBeGreaterThan(0);
    expect(Number(oldSize)).toBeLessThan(ENTRIES);
    expect(Number(newSize)).toBe(ENTRIES);
    expect(checkConsistency(Number(oldSize), ENTRIES, oldRoot!, newRoot!, between.proof)).toBe(true);
    expect(checkConsistency(Number(oldSize), ENTRIES, newRoot!, oldRoot!, between.proof)).toBe(false);
    const consistencyFile = join(tempDir('checkpoints-consistency'), 'consistency.json');
    (await import('node:fs')).writeFileSync(consistencyFile, consistency.stdout);
    const consistent = await runWalaudit(['verify-proof', consistencyFile, '--key', verifierKey]);
    expect(consistent.stdout).toContain(`proof verified: chain p0/r90 at ${ENTRIES} entries`);
    expect(consistent.code).toBe(0);

    // An entry edited in the proof is named, offline.
    const edited = { ...proof, entry: { ...proof.entry, event: proof.entry.event.replace('owner-6', 'mallory') } };
    (await import('node:fs')).writeFileSync(proofFile, JSON.stringify(edited));
    const failed = await runWalaudit(['verify-proof', proofFile, '--key', verifierKey]);
    expect(failed.stdout).toContain(`proof FAILED: entry ${rows[5]!.id}: its content hashes to`);
    expect(failed.code).toBe(1);
  }, 60_000);

  it('refuses to start on a store whose tail was cut, naming the chain and the missing range', async () => {
    const dir = await tampered('start-tail', (store, log) => store.command(`ALTER TABLE ${log} DELETE WHERE (lsn, seq) > (${rows[9]!.lsn}, ${rows[9]!.seq}) SETTINGS mutations_sync = 1`));
    const file = join(tempDir('checkpoints-start'), 'checkpoints.jsonl');
    cpSync(checkpointFile, file);
    const start = spawnWalaudit(['start', '--source', db.url, '--data-dir', dir, '--http-port', String(await findFreePort()), '--slot', slot, '--publication', slot], env(file));
    const code = await start.exited;
    expect(start.stderr()).toContain(`CHECKPOINT_MISMATCH: chain p0/r90: its newest stored entry is ${rows[9]!.id}, but the last checkpoint`);
    expect(start.stderr()).toContain(`the entries after ${rows[9]!.id} through ${rows.at(-1)!.id} are missing (tail truncation)`);
    expect(code).toBe(2);
    // Nothing was appended to the file by the refused start.
    expect(readFileSync(file, 'utf8')).toBe(readFileSync(checkpointFile, 'utf8'));
    // ...and the refusal raised an integrity alert, stored beside the trail.
    const alerts = await runWalaudit(['alerts', '--json', '--data-dir', dir, '--http-port', String(await findFreePort())]);
    const raised = alerts.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { kind: string; integrity?: { chain: string; message: string } });
    const integrity = raised.find((alert) => alert.kind === 'integrity');
    expect(integrity?.integrity?.chain, alerts.stdout + alerts.stderr).toBe('p0/r90');
    expect(integrity?.integrity?.message).toContain(`the entries after ${rows[9]!.id} through ${rows.at(-1)!.id} are missing`);
  }, 60_000);

  it('starts again on the intact store, continuing the tree from the saved frontier', async () => {
    const port = await findFreePort();
    const start = spawnWalaudit(['start', '--source', db.url, '--data-dir', dataDir, '--http-port', String(port), '--slot', slot, '--publication', slot], env());
    await start.waitFor((status) => status.state === 'running');
    await query(db.url, 'INSERT INTO accounts VALUES (100, $1, 1)', ['later']);
    await start.waitFor((status) => status.entriesStored >= 1);
    await start.stop('SIGTERM');
    const result = await verify(dataDir);
    expect(result.stdout).toContain(`chain p0/r90: ${ENTRIES + 1} entries stored`);
    expect(result.stdout).toContain(`size ${ENTRIES + 1}: matches (root recomputed)`);
    expect(result.code, result.stdout).toBe(0);
  }, 60_000);
});

import { Counter, Gauge, type Registry } from 'prom-client';
import {
  ChainTrees,
  chainKeyOf,
  describeError,
  MerkleFrontier,
  parseCheckpointText,
  parseNote,
  ResumeCheck,
  signCheckpoint,
  type AuditStore,
  type ChainedEntry,
  type ChainTreeState,
  type Checkpoint,
  type NoteSigner,
  type PublishedChain,
  type WalauditConfig,
} from '@walaudit/core';
import type { Logger } from '../logger.js';
import { appendCheckpointRecord, endPartialLine, readCheckpointRecords, type CheckpointRecord } from './checkpoint-file.js';

export interface CheckpointerDeps {
  config: WalauditConfig;
  signer: NoteSigner;
  store: Pick<AuditStore, 'chainHeads' | 'readChain'>;
  log: Logger;
  registry?: Registry;
}

export interface Checkpointer {
  /** The entries of a durable batch, in chain order: advances their chains' trees (CPU only, no I/O). */
  chained(entries: readonly ChainedEntry[]): void;
  /** Checkpoints every chain that changed since its last checkpoint and waits until the file has them (shutdown). */
  close(): Promise<void>;
  /** When the newest checkpoint was written to the file (ms since the epoch), or null. */
  readonly lastPublishedAt: number | null;
}

const TICK_MS = 1_000;
const RETRY_MAX_MS = 30_000;

/**
 * Signed checkpoints while the pipeline runs: each chain's Merkle tree advances with every stored
 * batch; at the interval, after enough entries and at shutdown a checkpoint per changed chain is
 * signed and appended to the checkpoint file. Writing happens on its own queue, retried until it
 * succeeds: the pipeline never waits for the file.
 *
 * Before that, the store is compared with the file: a chain that lost or rewrote entries since its
 * last checkpoint refuses the start (CHECKPOINT_MISMATCH), and each chain's tree is rebuilt from
 * its saved frontier and the entries stored after it.
 */
export async function startCheckpointer(deps: CheckpointerDeps): Promise<Checkpointer> {
  const { config, signer, log } = deps;
  const file = config.checkpoints.file;
  if (await endPartialLine(file)) log.warn(`${file} ended in a partial line (a crash while writing): it is closed and ignored`);
  const { published, newestTime } = await readPublished(file, log);
  const check = new ResumeCheck(published, await deps.store.chainHeads(), file);
  const from = check.readFrom();
  for await (const link of deps.store.readChain(from ?? undefined)) check.push(link);
  const states: ChainTreeState[] = check.finish();
  const now = Date.now();
  const trees = new ChainTrees(signer.name, { intervalMs: config.checkpoints.intervalMs, entries: config.checkpoints.everyEntries }, now);
  for (const state of states) trees.restore(state, now);
  log.info(`checkpoints: signing as ${signer.text}, into ${file}; chains resumed (entries): ${trees.describe() || 'none yet'}`);

  let lastPublishedAt: number | null = newestTime;
  const published_total = deps.registry ? new Counter({ name: 'walaudit_checkpoints_published_total', help: 'Signed checkpoints appended to the checkpoint file', registers: [deps.registry] }) : null;
  if (deps.registry) {
    new Gauge({
      name: 'walaudit_checkpoint_age_seconds',
      help: 'Seconds since the newest signed checkpoint was written to the checkpoint file (NaN: none yet)',
      registers: [deps.registry],
      collect() {
        this.set(lastPublishedAt === null ? Number.NaN : (Date.now() - lastPublishedAt) / 1000);
      },
    });
  }

  // One writer at a time, in order; a failed append is retried with backoff and holds the ones behind it.
  let queue: Promise<void> = Promise.resolve();
  let closing = false;
  const publish = (options: { every?: boolean; final?: boolean } = {}) => {
    const due = trees.takeDue(Date.now(), options);
    for (const { checkpoint, state } of due) {
      const record: CheckpointRecord = {
        origin: checkpoint.origin,
        size: checkpoint.size,
        root: checkpoint.root.toString('base64'),
        time: checkpoint.time,
        note: signCheckpoint(checkpoint, signer),
        frontier: state.frontier.hashes.map((hash) => hash.toString('base64')),
      };
      queue = queue.then(() => appendWithRetry(record));
    }
  };
  const appendWithRetry = async (record: CheckpointRecord) => {
    for (let attempt = 1, wait = 500; ; attempt++, wait = Math.min(wait * 2, RETRY_MAX_MS)) {
      try {
        await appendCheckpointRecord(file, record);
        lastPublishedAt = Date.now();
        published_total?.inc();
        return;
      } catch (error) {
        if (closing && attempt >= 3) {
          log.error(`checkpoint of ${record.origin} (size ${record.size}) could not be written to ${file}, giving up at shutdown: ${describeError(error)}`);
          return;
        }
        log.warn(`checkpoint of ${record.origin} (size ${record.size}) could not be written to ${file} (attempt ${attempt}), retrying in ${wait} ms: ${describeError(error)}`);
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  };
  const timer = setInterval(() => {
    if (trees.anyDue(Date.now())) publish();
  }, Math.min(TICK_MS, config.checkpoints.intervalMs));
  timer.unref();
  // Supersedes the `final` checkpoint of the last stop before anything is appended, so entries
  // this run stores are never taken for ones added while walaudit was stopped.
  publish({ every: true });
  await queue;

  return {
    chained(entries) {
      for (const entry of entries) trees.append(entry);
      if (trees.anyDue(Date.now())) publish();
    },
    async close() {
      clearInterval(timer);
      closing = true;
      publish({ every: true, final: true });
      await queue;
    },
    get lastPublishedAt() {
      return lastPublishedAt;
    },
  };
}

/** Each chain's newest record of the file, its tree state checked against its signed root by ResumeCheck. */
async function readPublished(file: string, log: Logger): Promise<{ published: PublishedChain[]; newestTime: number | null }> {
  const newest = new Map<string, { checkpoint: Checkpoint; frontier: string[] }>();
  let newestTime: number | null = null;
  let lines = 0;
  for await (const { record } of readCheckpointRecords(file)) {
    lines++;
    // The signature is not checked here: after a key rotation the newest lines were signed by a
    // key this process no longer holds. The saved frontier must still give the signed root.
    const checkpoint = parseCheckpointText(parseNote(record.note).text);
    newest.set(chainKeyOf(checkpoint.chain), { checkpoint, frontier: record.frontier ?? [] });
    const time = Date.parse(checkpoint.time);
    if (Number.isFinite(time) && (newestTime === null || time > newestTime)) newestTime = time;
  }
  if (lines > 0) log.info(`checkpoints: ${lines} in ${file}, ${newest.size} chain(s)`);
  const published = [...newest.values()].map(({ checkpoint, frontier }) => ({
    checkpoint,
    frontier: MerkleFrontier.restore(checkpoint.size, frontier.map((hash) => Buffer.from(hash, 'base64'))),
  }));
  return { published, newestTime };
}

import { WalauditError, type AuditEntry, type CascadeLink, type CascadeStore, type WalauditConfig, retryWhileRetriable, type StoredBatchObserver } from '@walaudit/core';
import { loadForeignKeys, SlotMonitor, withClient } from '@walaudit/pg';
import { createCorrelator, type Correlator } from '@walaudit/correlator';
import type { CascadeApi } from '@walaudit/api';
import type { Logger } from './logger.js';

export interface CausedByAnswer {
  root: AuditEntry | null;
  links: CascadeLink[];
}

/** `log --caused-by`: the entry and the links of everything its deletion removed or nulled. */
export async function causedBy(links: CascadeStore, entryId: string): Promise<CausedByAnswer> {
  const [root] = await links.entriesByIds([entryId]);
  if (!root) throw new WalauditError('CONFIG_INVALID', `no audit entry has id ${entryId} (ids look like 00000000019C3E28-0; see walaudit log)`);
  return { root, links: await links.linksCausedBy(entryId) };
}

export interface CascadeServices {
  observers: StoredBatchObserver[];
  api: CascadeApi;
  /** Ends the retries of the first foreign-key read, so a stop does not wait for Postgres to come back. */
  stop(): void;
}

/** GET /api/cascade?caused-by=ID: what `walaudit log --caused-by` asks a running process. */
export function cascadeApi(links: CascadeStore): CascadeApi {
  return { causedBy: (id) => causedBy(links, id) };
}

/**
 * The correlator of the standalone pipeline: reads the foreign keys, links again what the last
 * run stored but did not confirm, then observes every stored batch. GET /cascade?caused-by=ID
 * answers `walaudit log --caused-by` while `start` holds the store.
 */
export function startCascadeServices(config: WalauditConfig, links: CascadeStore, sourceUrl: string, log: Logger): CascadeServices {
  const api = cascadeApi(links);
  if (!config.cascade.links) return { observers: [], api, stop: () => {} };
  let stopping = false;
  let stopped!: () => void;
  const stopRequested = new Promise<void>((resolve) => (stopped = resolve));
  // A cancelled read fails the batch's observers: the slot replays the batch, and the next start links it.
  const retry = { initialMs: config.pipeline.retryInitialMs, maxMs: config.pipeline.retryMaxMs, cancelled: () => stopping, interrupted: stopRequested };
  const correlator = createConfiguredCorrelator(config, links, sourceUrl, log);
  // Prepared with the first stored batch, not before `start` serves: an unreachable Postgres must
  // not keep the API (status, health) down. By then the reader is connected, and the slot has not
  // confirmed anything new, so its confirmed position still marks what the last run left unlinked.
  let ready: Promise<void> | null = null;
  const prepare = () =>
    (ready ??= (async () => {
      await retryWhileRetriable(() => correlator.start(), { ...retry, onRetry: (n, ms, error) => log.warn(`cannot read the foreign keys (attempt ${n}), retrying in ${ms} ms: ${String(error)}`) });
      const monitor = new SlotMonitor(sourceUrl, config.source.slot);
      try {
        const slot = await monitor.state();
        if (slot.exists && slot.confirmedLsn !== null) {
          const relinked = await correlator.recover(slot.confirmedLsn);
          if (relinked > 0) log.info(`linked ${relinked} cascaded rows stored before the last stop but not confirmed`);
        }
      } finally {
        await monitor.close();
      }
      log.info(`cascade links on: ${correlator.foreignKeys.filter((fk) => fk.onDelete === 'cascade' || fk.onDelete === 'set-null').length} cascading foreign keys`);
    })().catch((error: unknown) => {
      ready = null;
      throw error;
    }));
  return {
    observers: [
      async (stored) => {
        await prepare();
        await correlator.observe(stored);
      },
    ],
    api,
    stop() {
      stopping = true;
      stopped();
    },
  };
}

/**
 * A correlator on the configured store and the audited database's foreign keys. Link inserts are
 * retried here: thrown, a failure would fail the batch after its entries are stored, and the replay
 * would skip them (links come back only at the next start's recovery).
 */
export function createConfiguredCorrelator(config: WalauditConfig, links: CascadeStore, sourceUrl: string, log: Logger): Correlator {
  const retry = { initialMs: config.pipeline.retryInitialMs, maxMs: config.pipeline.retryMaxMs };
  return createCorrelator({
    links: {
      insertLinks: (batch) => retryWhileRetriable(() => links.insertLinks(batch), { ...retry, onRetry: (n, ms, error) => log.warn(`storing cascade links failed (attempt ${n}), retrying in ${ms} ms: ${String(error)}`) }),
      linksCausedBy: (id) => links.linksCausedBy(id),
      linkOf: (id) => links.linkOf(id),
      linksOfTransaction: (xid) => links.linksOfTransaction(xid),
      rootCascade: (root) => links.rootCascade(root),
    },
    entries: links,
    loadForeignKeys: () => withClient(sourceUrl, 'walaudit-correlator', (client) => loadForeignKeys(client, sourceUrl)),
    refreshIntervalMs: config.cascade.refreshIntervalMs,
    maxTrackedKeys: config.cascade.maxTrackedKeys,
    warn: (message) => log.warn(message),
  });
}
